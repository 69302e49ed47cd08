import { readToEnd, serverUrl } from '@qbo/testkit';
import pg from 'pg';

/** What the story's checks read at the sources: the run's topics, the platform database, the simulator. */
export interface Envelope {
  type: string;
  orgId?: string;
  data: Record<string, unknown> & {
    realmId?: string;
    connectionId?: string;
    entity?: string;
    entityId?: string;
    op?: string;
    runId?: string;
    commandId?: string;
    source?: { runId?: string };
    snapshot?: { runId: string };
  };
}

export async function topic(topicPrefix: string, name: string): Promise<Envelope[]> {
  return (await readToEnd(`${topicPrefix}${name}`))
    .filter(({ message }) => message.value !== null)
    .map(({ message }) => JSON.parse(String(message.value)) as Envelope);
}

export interface RunRow {
  run_id: string;
  connection_id: string;
  trigger: string;
  mode: string;
  status: string;
  upserted: number;
  deleted: number;
  api_calls: number;
  started_at: Date;
}

/** sync-service's rows for the realm: runs, mirror size, record errors and pushes. */
export async function syncRows(database: string, realmId: string) {
  const url = new URL(serverUrl());
  url.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    const runs = await db.query<RunRow>(
      `select run_id::text, connection_id::text, trigger, mode, status, upserted, deleted, api_calls, started_at
       from sync.sync_run where realm_id = $1 order by started_at`,
      [realmId],
    );
    const mirror = await db.query<{ n: number }>(
      'select count(*)::int as n from sync.mirror_record where realm_id = $1 and deleted_at is null',
      [realmId],
    );
    const errors = await db.query<{ kind: string; entity: string; resolved_by: string | null; code: string }>(
      'select kind, entity, resolved_by, code from sync.sync_error where realm_id = $1 and kind = $2',
      [realmId, 'record'],
    );
    const pushes = await db.query<{ command_id: string; status: string; applied: string | null }>(
      'select command_id::text, status, applied from sync.sync_push where realm_id = $1',
      [realmId],
    );
    return { runs: runs.rows, mirrored: mirror.rows[0]?.n ?? 0, errors: errors.rows, pushes: pushes.rows };
  } finally {
    await db.end();
  }
}

export type Counters = Record<string, Record<string, { calls: number; statuses: Record<string, number> }>>;

export async function simulatorCounters(simulatorUrl: string): Promise<Counters> {
  const res = await fetch(`${simulatorUrl}/_sim/counters`);
  if (!res.ok) throw new Error(`the simulator's counters: ${res.status}`);
  return (await res.json()) as Counters;
}

/** The story's ids, as the demo named them (what they are is then checked at the sources). */
export function idsOf(output: string) {
  const all = (re: RegExp) => [...output.matchAll(re)].map((m) => String(m[1]));
  return {
    orgId: /\[demo\] (\S+) started a connect flow/.exec(output)?.[1],
    realmId: /\(realm (\d+)\)/.exec(output)?.[1],
    connections: all(/\[demo\] connection (\S+) is active/g),
    loaded: Number(/initial sync complete: (\d+) records/.exec(output)?.[1]),
    changed: all(/customer (\d+) created in QuickBooks reached a downstream consumer/g),
    whileDeactivated: (/customers ([\d, ]+) were created in QuickBooks while/.exec(output)?.[1] ?? '')
      .split(', ')
      .filter(Boolean),
    pushed: /sync-service created Customer (\d+) in QuickBooks/.exec(output)?.[1],
  };
}
