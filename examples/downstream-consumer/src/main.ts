import { renameSync, writeFileSync } from 'node:fs';
import { startFeedConsumer } from './feed-consumer.js';
import type { FeedTable } from './table.js';

/**
 * Runs the example: bootstraps, follows the log, prints one JSON line per milestone (`bootstrapped`, `gap`)
 * and, with TABLE_FILE set, keeps that file equal to the table after every event.
 *   KAFKA_BROKERS=127.0.0.1:39092 SCHEMA_REGISTRY_URL=http://… [TOPIC_PREFIX=staging.] [MARGIN_MS=60000]
 */
const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (!value) {
    process.stderr.write(`${name} is required\n`);
    process.exit(1);
  }
  return value;
};
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const tableFile = env.TABLE_FILE;
const dump = (table: FeedTable) => {
  if (!tableFile) return;
  // Written aside and renamed, so a reader never sees half a file.
  writeFileSync(`${tableFile}.tmp`, JSON.stringify(table.snapshot()));
  renameSync(`${tableFile}.tmp`, tableFile);
};

const prefix = env.TOPIC_PREFIX ?? '';
const consumer = await startFeedConsumer({
  brokers: required('KAFKA_BROKERS').split(','),
  registryUrl: required('SCHEMA_REGISTRY_URL'),
  logTopic: `${prefix}qbo.records.v1`,
  stateTopic: `${prefix}qbo.records.state.v1`,
  marginMs: Number(env.MARGIN_MS ?? 60_000),
  onBootstrapped: (info) => print({ event: 'bootstrapped', ...info }),
  onGap: (gap) => print({ event: 'gap', ...gap }),
  onApplied: dump,
});
dump(consumer.table);
print({ event: 'following' });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void consumer.stop().then(() => {
      dump(consumer.table);
      process.exit(0);
    });
  });
}
