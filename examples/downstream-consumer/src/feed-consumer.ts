import { randomBytes } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type Admin, type Consumer, type IHeaders, Kafka, logLevel } from 'kafkajs';
import { type FeedEvent, FeedTable, type Gap } from './table.js';

export interface FeedConsumerOptions {
  brokers: string[];
  /** The registry's Confluent-compatible API (Apicurio: `…/apis/ccompat/v7`). */
  registryUrl: string;
  /** `qbo.records.v1`, with the environment's prefix. */
  logTopic: string;
  /** `qbo.records.state.v1`, with the environment's prefix. */
  stateTopic: string;
  /** How far before T0 the log is read: at least the platform's relay lag plus clock skew. */
  marginMs: number;
  /** The consumer group that follows the log; a fresh one per run when unset. */
  groupId?: string;
  onBootstrapped?(info: { t0: number; stateMessages: number; records: number }): void;
  onGap?(gap: Gap): void;
  onApplied?(table: FeedTable): void;
}

export interface FeedConsumer {
  readonly table: FeedTable;
  stop(): Promise<void>;
}

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
};

const suffix = () => randomBytes(4).toString('hex');

/** End offsets (exclusive) of every partition that holds something. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const ends = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic)) {
    if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  }
  return ends;
}

/**
 * Steps 1 and 2 of the bootstrap: note T0 and the state topic's end offsets, then read it from the earliest
 * offset up to them, keeping the newest seq per key (a null value deletes).
 */
async function bootstrap(
  kafka: Kafka,
  admin: Admin,
  o: FeedConsumerOptions,
  table: FeedTable,
  decode: (v: Buffer) => Promise<FeedEvent>,
) {
  const t0 = Date.now();
  const ends = await endOffsets(admin, o.stateTopic);
  let messages = 0;
  if (ends.size > 0) {
    const groupId = `downstream-bootstrap-${suffix()}`;
    const reader = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const remaining = new Set(ends.keys());
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await reader.connect();
    await reader.subscribe({ topic: o.stateTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ partition, message }) => {
        const end = ends.get(partition);
        if (end === undefined || BigInt(message.offset) >= end) return;
        const key = message.key?.toString() ?? '';
        const value = message.value === null ? null : await decode(message.value);
        table.applyState(key, value, header(message.headers, 'seq'));
        messages++;
        // Compaction leaves holes, but never removes a partition's last message before the end offset noted.
        if (BigInt(message.offset) === end - 1n) {
          remaining.delete(partition);
          if (remaining.size === 0) done();
        }
      },
    });
    await finished;
    await reader.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return { t0, messages };
}

/**
 * Step 3: the log from `offsetsForTimes(T0 − margin)` in every partition (the end where no message is that
 * recent), set as the group's starting offsets before it joins.
 */
async function seekLog(admin: Admin, o: FeedConsumerOptions, groupId: string, t0: number) {
  const high = new Map((await admin.fetchTopicOffsets(o.logTopic)).map((p) => [p.partition, p.high]));
  const byTime = await admin.fetchTopicOffsetsByTimestamp(o.logTopic, t0 - o.marginMs);
  const partitions = byTime.map((p) => ({
    partition: p.partition,
    offset: BigInt(p.offset) < 0n ? (high.get(p.partition) ?? '0') : p.offset,
  }));
  await admin.setOffsets({ groupId, topic: o.logTopic, partitions });
}

/**
 * Bootstraps a copy of the platform's records from the compacted state topic, then follows the change log,
 * applying each event only when its seq is newer than the record's, and reporting gaps in an org's seqs.
 */
export async function startFeedConsumer(o: FeedConsumerOptions): Promise<FeedConsumer> {
  const kafka = new Kafka({ clientId: 'downstream-example', brokers: o.brokers, logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry(
    { host: o.registryUrl },
    // The platform's JSON Schemas name formats (uuid, date-time) beside equivalent patterns.
    { [SchemaType.JSON]: { strict: false, validateFormats: false } },
  );
  const decode = async (value: Buffer) => (await registry.decode(value)) as FeedEvent;
  const table = new FeedTable();
  const admin = kafka.admin();
  await admin.connect();
  let follower: Consumer | undefined;
  try {
    const { t0, messages } = await bootstrap(kafka, admin, o, table, decode);
    o.onBootstrapped?.({ t0, stateMessages: messages, records: table.size });

    const groupId = o.groupId ?? `downstream-${suffix()}`;
    await seekLog(admin, o, groupId, t0);
    follower = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await follower.connect();
    await follower.subscribe({ topic: o.logTopic, fromBeginning: true });
    await follower.run({
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        const { gap } = table.applyLog(await decode(message.value));
        if (gap) o.onGap?.(gap);
        o.onApplied?.(table);
      },
    });
  } finally {
    await admin.disconnect();
  }
  return {
    table,
    async stop() {
      await follower?.disconnect();
    },
  };
}
