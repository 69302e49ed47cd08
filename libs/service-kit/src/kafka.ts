import { type Admin, Kafka, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSecurity } from './kafka-security.js';
import { type Check, withSignal } from './readiness.js';

export interface KafkaOptions {
  brokers: readonly string[];
  clientId: string;
  log: Logger;
  /** TLS and SASL, from `kafkaSecurity(config)`; plaintext and unauthenticated without. */
  security?: KafkaSecurity;
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * kafkajs warnings about choices made on purpose, at every start of every producer: the default partitioner
 * is the one wanted (Java-compatible murmur2), and producer retries are bounded so that a publish fails in
 * bounded time (idempotence with one request in flight still keeps order; the platform uses no transactions).
 */
const deliberate = [/switched default partitioner/, /Limiting retries for the idempotent producer/];

/** kafkajs logs through the service's pino logger (and so through its redaction), not to the console. */
const pinoLogCreator =
  (log: Logger): logCreator =>
  () =>
  ({ level, label, log: entry }) => {
    const { message, ...fields } = entry;
    const known = level === KafkaLogLevel.WARN && deliberate.some((re) => re.test(String(message)));
    log[known ? 'debug' : (levels[level] ?? 'info')]({ kafka: label, ...fields }, message);
  };

export function createKafka({ brokers, clientId, log, security = {} }: KafkaOptions): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    ...(security.ssl ? { ssl: security.ssl } : {}),
    ...(security.sasl ? { sasl: security.sasl } : {}),
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    connectionTimeout: 3_000,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
}

/** Ready when the cluster answers a metadata request through the service's own admin connection. */
export const kafkaCheck =
  (admin: Admin): Check =>
  async (signal) => {
    await withSignal(signal, admin.describeCluster());
  };
