// A relay as its own process, for the crash tests: it stops dead (waiting to be killed) at the point named by
// RELAY_STOP_AT, after logging 'relay stop point reached' with the rows in hand.
import { createKafka, createLogger } from '@qbo/service-kit';
import { createOutboxRelay, type OutboxRow } from '../outbox/relay.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTopicNames } from '../topic-names.js';

const env = process.env;
const log = createLogger({ service: 'relay-process', level: 'info' });
const stopAt = env.RELAY_STOP_AT as 'before-publish' | 'after-publish' | undefined;
const hang = (point: string) => async (rows: readonly OutboxRow[]) => {
  log.info({ point, eventIds: rows.map((r) => r.id) }, 'relay stop point reached');
  await new Promise(() => undefined);
};

const relay = createOutboxRelay({
  connectionString: String(env.DATABASE_URL),
  schema: String(env.OUTBOX_SCHEMA),
  kafka: createKafka({ brokers: String(env.KAFKA_BROKERS).split(','), clientId: 'relay-process', log }),
  serde: createJsonSerde(),
  log,
  names: createTopicNames(env.KAFKA_TOPIC_PREFIX ?? ''),
  idlePollMs: 20,
  standbyPollMs: 100,
  hooks: {
    ...(stopAt === 'before-publish' ? { beforePublish: hang(stopAt) } : {}),
    ...(stopAt === 'after-publish' ? { afterPublish: hang(stopAt) } : {}),
  },
});
relay.start();
log.info('service started');
process.once('SIGTERM', () => void relay.stop().then(() => process.exit(0)));
