import type { TestDatabase } from '@qbo/testkit';
import { waitFor } from '@qbo/testkit';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../outbox/relay.js';
import { createJsonSerde } from '../serde/json-serde.js';
import type { TestBus } from './bus.js';
import { testSchema } from './store.js';

/** A started relay on the test store's outbox and the bus's topics, polling often (plain JSON unless told). */
export function startTestRelay(
  db: TestDatabase,
  bus: TestBus,
  options: Partial<Omit<OutboxRelayOptions, 'connectionString' | 'kafka' | 'log' | 'names'>> = {},
): OutboxRelay {
  const relay = createOutboxRelay({
    connectionString: db.url,
    schema: testSchema,
    kafka: bus.kafka,
    serde: createJsonSerde(),
    log: bus.log,
    names: bus.names,
    idlePollMs: 20,
    ...options,
  });
  relay.start();
  return relay;
}

/** Waits until every row of the test store's outbox was published and marked sent. */
export async function outboxDrained(db: TestDatabase, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () =>
      Number(
        (await db.query(`select count(*) as n from ${testSchema}.outbox where sent_at is null`))[0]?.n,
      ) === 0,
    { timeoutMs, what: 'the outbox drained' },
  );
}
