import { currentTraceparent } from '@qbo/event-bus';
import { execute, query } from '@qbo/service-kit';
import { type AskedTrace, MAX_RUN_LINKS } from '../sync/run-trace.js';
import type { Target } from './feed.js';
import type { Em } from './sql.js';

export type TargetStatus = 'active' | 'deactivated' | 'disconnected';

/** A company to sync, as the worker reads it when it claims one. */
export interface SyncTarget extends Target {
  status: TargetStatus;
  entities: string[];
  needsLoad: boolean;
  loadRunId: string | null;
  loadUntil: number | null;
  /** The entities a pending load resyncs; null: the whole company. */
  loadEntities: string[] | null;
  generation: number;
  cdcSince: number | null;
  reconcileEntities: string[];
  reconcileDue: boolean;
  /** How old the CDC cursor is by this replica's clock (Intuit's may differ; CDC's own fault is the backstop). */
  cdcAgeMs: number | null;
  attempts: number;
  /** Why it is due: a notification, a command, a retry, a connection event, or the schedule. */
  trigger: string;
  /** The company's own interval between deltas, set through the API; null: the service's default. */
  intervalMs: number | null;
  /** The schedule as it stood when claimed, and whether it had come due by itself. */
  scheduleAt: number;
  scheduleDue: boolean;
  /** Who asked for this sync: the trace the run continues and the others it links to. */
  asked: AskedTrace;
}

interface TargetRow {
  org_id: string;
  realm_id: string;
  connection_id: string;
  status: TargetStatus;
  entities: string[];
  needs_load: boolean;
  load_run_id: string | null;
  load_until: Date | null;
  load_entities: string[] | null;
  generation: number;
  cdc_since: Date | null;
  reconcile_entities: string[];
  reconcile_due: boolean;
  cdc_age_ms: number | null;
  attempts: number;
  trigger: string;
  interval_ms: string | null;
  schedule_at: Date;
  schedule_due: boolean;
  wanted_traceparent: string | null;
  wanted_links: string[];
  wanted_due: boolean;
}

/** `'infinity'` (a company waiting for a reconnect) reads as an invalid date. */
const finiteOr = (t: number) => (Number.isFinite(t) ? t : Number.POSITIVE_INFINITY);

const ms = (d: Date | null): number | null => (d === null ? null : new Date(d).getTime());

const COLUMNS = `org_id, realm_id, connection_id::text, status, entities, needs_load, load_run_id::text, load_until,
  load_entities, generation, cdc_since, reconcile_entities, coalesce(reconcile_at <= now(), false) as reconcile_due,
  (extract(epoch from now() - cdc_since_local) * 1000)::float8 as cdc_age_ms, attempts,
  case when wanted_at <= now() then coalesce(wanted_reason, 'schedule') else 'schedule' end as trigger,
  interval_ms::text, schedule_at, schedule_at <= now() as schedule_due, wanted_traceparent, wanted_links,
  coalesce(wanted_at <= now(), false) as wanted_due`;

function fromRow(r: TargetRow): SyncTarget {
  return {
    orgId: r.org_id,
    realmId: r.realm_id,
    connectionId: r.connection_id,
    status: r.status,
    entities: r.entities,
    needsLoad: r.needs_load,
    loadRunId: r.load_run_id,
    loadUntil: ms(r.load_until),
    loadEntities: r.load_entities,
    generation: r.generation,
    cdcSince: ms(r.cdc_since),
    reconcileEntities: r.reconcile_entities,
    reconcileDue: r.reconcile_due,
    cdcAgeMs: r.cdc_age_ms,
    attempts: r.attempts,
    trigger: r.trigger,
    intervalMs: r.interval_ms === null ? null : Number(r.interval_ms),
    scheduleAt: finiteOr(new Date(r.schedule_at).getTime()),
    scheduleDue: r.schedule_due,
    asked: { traceparent: r.wanted_traceparent, links: r.wanted_links, due: r.wanted_due },
  };
}

export async function readTarget(em: Em, orgId: string, realmId: string): Promise<SyncTarget | undefined> {
  const rows = await query<TargetRow>(
    em,
    `select ${COLUMNS} from sync_target where org_id = $1 and realm_id = $2`,
    [orgId, realmId],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/**
 * Active companies whose schedule or a notification has come due, oldest first, locked so that no other
 * replica's claim picks the same ones in the meantime (`skip locked`). A paused company is never due, nor one
 * whose data a purge is removing (started, or an erasure's): a company reconnected meanwhile loads afresh once
 * the purge has announced itself, so no record it loads comes before the purge's event on the change log.
 */
export async function dueTargets(em: Em, limit: number): Promise<SyncTarget[]> {
  const rows = await query<TargetRow>(
    em,
    `select ${COLUMNS} from sync_target t
     where status = 'active' and paused_at is null and least(schedule_at, coalesce(wanted_at, schedule_at)) <= now()
       and not exists (select 1 from data_purge d where d.org_id = t.org_id and d.realm_id = t.realm_id
         and (d.status = 'running' or (d.status = 'pending' and d.reason = 'erasure')))
     order by least(schedule_at, coalesce(wanted_at, schedule_at)) limit $1 for update skip locked`,
    [limit],
  );
  return rows.map(fromRow);
}

/**
 * Marks a claimed company as being synced: the notifications seen so far are served by this run (its CDC call
 * comes after them), and the schedule moves past the lease so a crashed run is picked up again after it.
 */
export async function markClaimed(em: Em, t: Target, retryAfterMs: number): Promise<void> {
  await execute(
    em,
    `update sync_target set wanted_at = null, wanted_reason = null, wanted_traceparent = null, wanted_links = '{}',
       schedule_at = now() + make_interval(secs => $3), updated_at = now()
     where org_id = $1 and realm_id = $2`,
    [t.orgId, t.realmId, retryAfterMs / 1000],
  );
}

/**
 * The assignments that keep the asker's trace (`param`: its traceparent, or null) with the ask. The asker
 * whose `wanted_reason` stands is the run's parent: the first of a debounced burst (`replaces` false), or
 * this one when its reason replaces the pending one (a command, a connection event, a resume). Every other
 * asker still waiting is a link, at most MAX_RUN_LINKS of them. `table` qualifies the old row's columns (an
 * `on conflict` update must name them).
 */
export function askedTraceSet(param: string, replaces: boolean, table = 'sync_target'): string {
  const reason = `${table}.wanted_reason`;
  const parent = `${table}.wanted_traceparent`;
  const links = `${table}.wanted_links`;
  const append = (value: string, except: string) =>
    `case when ${value} is null or ${value} = coalesce(${except}, '') or ${value} = any(${links})
       or cardinality(${links}) >= ${MAX_RUN_LINKS} then ${links} else ${links} || ${value} end`;
  return replaces
    ? `wanted_traceparent = ${param}::text,
       wanted_links = case when ${reason} is null then '{}'::text[] else ${append(parent, `${param}::text`)} end`
    : `wanted_traceparent = case when ${reason} is null then ${param}::text else ${parent} end,
       wanted_links = case when ${reason} is null then '{}'::text[] else ${append(`${param}::text`, parent)} end`;
}

/**
 * Asks for a sync soon: the earliest of what was asked already and now + `delayMs` (a debounce). The active
 * trace (a notification's, a command's) is kept with the ask, so the run continues it or links to it.
 */
export async function wantSync(
  em: Em,
  orgId: string,
  realmId: string,
  delayMs: number,
  reason: 'webhook' | 'command' | 'connection' | 'resume' | 'retry' | 'push',
  traceparent: string | undefined = currentTraceparent(),
): Promise<void> {
  await execute(
    em,
    `update sync_target set wanted_at = least(coalesce(wanted_at, 'infinity'), now() + make_interval(secs => $3)),
       ${askedTraceSet('$5', false)}, wanted_reason = coalesce(wanted_reason, $4), updated_at = now()
     where org_id = $1 and realm_id = $2`,
    [orgId, realmId, delayMs / 1000, reason, traceparent ?? null],
  );
}

/** The next scheduled run; an infinite delay waits for a connection event (a reconnect) instead. */
export async function scheduleNext(em: Em, t: Target, delayMs: number, success: boolean): Promise<void> {
  await execute(
    em,
    `update sync_target set schedule_at = case when $3::float8 is null then 'infinity'::timestamptz
         else now() + make_interval(secs => $3::float8) end,
       attempts = case when $4 then 0 else attempts + 1 end,
       last_synced_at = case when $4 then now() else last_synced_at end, updated_at = now()
     where org_id = $1 and realm_id = $2`,
    [t.orgId, t.realmId, Number.isFinite(delayMs) ? delayMs / 1000 : null, success],
  );
}

export async function recordFailure(em: Em, t: Target, error: unknown): Promise<void> {
  await execute(
    em,
    'update sync_target set last_error = $3::jsonb, updated_at = now() where org_id = $1 and realm_id = $2',
    [t.orgId, t.realmId, JSON.stringify(error)],
  );
}

/** Puts back the schedule a claim moved, for a claim that did only what was asked (a retry), not a sync. */
export async function restoreSchedule(em: Em, t: Target, scheduleAt: number): Promise<void> {
  await execute(
    em,
    'update sync_target set schedule_at = $3, updated_at = now() where org_id = $1 and realm_id = $2',
    [t.orgId, t.realmId, Number.isFinite(scheduleAt) ? new Date(scheduleAt).toISOString() : 'infinity'],
  );
}
