import { readToEnd } from '@qbo/event-bus/testing';
import type { TopicName } from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import type { SyncStack } from './sync-stack.js';

/** The newest purge of a company: its id, status and counts. */
export const purgeOf = async (stack: SyncStack, realmId: string) =>
  (
    await stack.db.query<{ purge_id: string; status: string; counts: Record<string, number> }>(
      'select purge_id::text, status, counts from sync.data_purge where realm_id = $1 order by due_at desc limit 1',
      [realmId],
    )
  )[0];

/** Every row of every table of the service's schema, as text, with its table. */
export async function everyRow(stack: SyncStack): Promise<{ table: string; row: string }[]> {
  const tables = await stack.db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'sync' and table_type = 'BASE TABLE'`,
  );
  const out: { table: string; row: string }[] = [];
  for (const { table_name } of tables) {
    const rows = await stack.db.query<{ row: string }>(`select t::text as row from sync."${table_name}" t`);
    for (const r of rows) out.push({ table: table_name, row: r.row });
  }
  return out;
}

/**
 * Waits until the broker has compacted a topic so that no key starting with `prefix` keeps a value, and returns
 * the topic's messages then. A message sent after the topic's segment.ms rolls the segment holding the
 * tombstones, so the cleaner can reach them.
 */
export async function compactedWithout(stack: SyncStack, logicalTopic: TopicName, prefix: string) {
  const topic = stack.bus.names.physical(logicalTopic);
  const producer = stack.bus.kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'compaction-probe', value: null }] });
  await producer.disconnect();
  return waitFor(
    async () => {
      const all = await readToEnd(stack.bus.kafka, topic);
      const values = all.filter(
        (m) => m.message.key?.toString().startsWith(prefix) && m.message.value !== null,
      );
      return values.length === 0 && all;
    },
    { timeoutMs: 100_000, intervalMs: 2_000, what: `the broker compacting ${logicalTopic}` },
  );
}
