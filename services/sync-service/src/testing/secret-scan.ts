import { orgToken } from './org-tokens.js';
import { listEndpoints } from './sync-api.js';
import type { SyncStack } from './sync-stack.js';
import { topics } from './sync-stack.js';

/** One place text came from: a table, a topic, a process's output or an HTTP answer. */
export interface Haystack {
  where: string;
  text: string;
}

/** Where any of the secrets appears; each hit names the place, never the secret. */
export function findSecrets(haystacks: readonly Haystack[], secrets: readonly string[]): string[] {
  const wanted = secrets.filter((s) => s.length >= 8);
  return haystacks.flatMap((h) =>
    wanted.flatMap((s, i) => (h.text.includes(s) ? [`secret #${i} in ${h.where}`] : [])),
  );
}

/** Every row of every table of the service's schema, as text. */
export async function tableText(stack: SyncStack): Promise<Haystack[]> {
  const tables = await stack.db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'sync' and table_type = 'BASE TABLE'`,
  );
  const out: Haystack[] = [];
  for (const { table_name } of tables) {
    const rows = await stack.db.query<{ text: string | null }>(
      `select string_agg(t::text, E'\\n') as text from sync."${table_name}" t`,
    );
    out.push({ where: `table sync.${table_name}`, text: rows[0]?.text ?? '' });
  }
  return out;
}

/** Every message, key and header on the topics sync-service writes. */
export async function topicText(stack: SyncStack): Promise<Haystack[]> {
  const out: Haystack[] = [];
  for (const topic of [topics.records, topics.recordsState, topics.syncRuns]) {
    out.push({ where: `topic ${topic}`, text: JSON.stringify(await stack.readAll(topic)) });
  }
  return out;
}

/**
 * What the running replicas answer over HTTP, headers included: the probes, the metrics, an unknown route, and
 * the sync API as an operator reads it (every list, and each run with its calls to Intuit).
 */
export async function httpText(stack: SyncStack): Promise<Haystack[]> {
  const out: Haystack[] = [];
  const operator = await orgToken('platform-ops', { operator: true });
  const runs = await stack.db.query<{ run_id: string }>('select run_id::text from sync.sync_run');
  const apiPaths = [
    ...listEndpoints.map(([, path]) => path),
    ...runs.flatMap((r) => [`/runs/${r.run_id}`, `/runs/${r.run_id}/api-calls`]),
  ];
  for (const replica of stack.replicas) {
    if (replica.child.exitCode !== null || replica.child.signalCode !== null) continue;
    const read = async (path: string, authorization?: string) => {
      const res = await fetch(`${replica.url}${path}`, authorization ? { headers: { authorization } } : {});
      const headers = JSON.stringify([...res.headers]);
      out.push({ where: `GET ${path} (${res.status})`, text: `${headers}\n${await res.text()}` });
      return res.status;
    };
    for (const path of ['/healthz', '/readyz', '/metrics', '/no-such-route']) await read(path);
    for (const path of apiPaths) {
      const status = await read(path, `Bearer ${operator}`);
      if (status !== 200) throw new Error(`GET ${path} answered ${status}: the scan needs the answer`);
    }
  }
  return out;
}

/** The output of every process of the stack: each sync-service replica and the token-service. */
export function processText(stack: SyncStack): Haystack[] {
  return [
    ...stack.replicas.map((r, i) => ({ where: `sync-service replica ${i} output`, text: r.output() })),
    { where: 'token-service output', text: stack.tokens.process.output() },
  ];
}
