import { type Admin, Kafka, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import { type Check, withSignal } from './readiness.js';

export interface KafkaOptions {
  brokers: readonly string[];
  clientId: string;
  log: Logger;
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** kafkajs logs through the service's pino logger (and so through its redaction), not to the console. */
const pinoLogCreator =
  (log: Logger): logCreator =>
  () =>
  ({ level, label, log: entry }) => {
    const { message, ...fields } = entry;
    log[levels[level] ?? 'info']({ kafka: label, ...fields }, message);
  };

export function createKafka({ brokers, clientId, log }: KafkaOptions): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
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
