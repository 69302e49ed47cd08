import { createSerde, createTopicNames } from '@qbo/event-bus';
import { topics } from '@qbo/events';
import { Kafka, logLevel } from 'kafkajs';
import { apiCalls, bar, counters, type Demo, getJson, sleep } from './demo-kit.js';

/** What the demo reads of a record event: enough to name the record and the run that emitted it. */
export interface RecordEvent {
  type: string;
  /** When this watch received it (ms since the epoch): what a downstream consumer's latency is measured at. */
  receivedAt: number;
  orgId: string;
  data: { realmId: string; entity: string; entityId: string; op: string; source?: { runId?: string } };
}

export interface RecordWatch {
  /** Resolves with the events of the org seen so far once `done` holds for them; rejects after `timeoutMs`. */
  until(
    done: (events: readonly RecordEvent[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<RecordEvent[]>;
  stop(): Promise<void>;
}

/**
 * Reads the record change log as a downstream consumer would (its own group, the topic's own serde), keeping
 * the org's events. Started before the org connects, so nothing sync-service publishes for it is missed.
 */
export async function watchRecords(brokers: string, orgId: string): Promise<RecordWatch> {
  const kafka = new Kafka({
    clientId: 'stack-demo',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const serde = createSerde({ registryUrl: process.env.SCHEMA_REGISTRY_URL });
  const topic = createTopicNames(process.env.KAFKA_TOPIC_PREFIX).physical(topics.records);
  const consumer = kafka.consumer({ groupId: `stack-demo-${orgId}`, maxWaitTimeInMs: 200 });
  const seen: RecordEvent[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    // No offsets committed: the watch leaves no group behind.
    autoCommit: false,
    eachMessage: async ({ message }) => {
      // Keyed by org: other orgs' events are skipped without being decoded.
      if (message.key?.toString() !== orgId || !message.value) return;
      const event = (await serde.decode(message.value)) as Omit<RecordEvent, 'receivedAt'>;
      seen.push({ ...event, receivedAt: Date.now() });
    },
  });
  return {
    async until(done, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(seen)) {
        if (Date.now() > deadline) throw new Error(`${what}: not on ${topic} after ${timeoutMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return [...seen];
    },
    stop: () => consumer.disconnect(),
  };
}

export interface RunView {
  id: string;
  mode: string;
  status: string;
  progress: { pages: number; records: number; estimate: number | null; percent: number | null };
  counts: { upserted: number; deleted: number; unchanged: number };
  apiCalls: number;
  durationMs: number;
  startedAt: string;
}

/**
 * Follows the company's initial load through sync-service's runs API (the console's source too), drawing a
 * progress bar from its records against Intuit's COUNT, and the calls it used, as Intuit counted them,
 * against Intuit's budget of 500 a minute per realm (the busiest minute). A failed load is retried by the
 * service; none completed within `timeoutMs` is an error.
 */
export async function followInitialSync(
  d: Demo,
  connectionId: string,
  realmId: string,
  timeoutMs = 300_000,
): Promise<{ run: RunView; calls: number; busiestMinute: number }> {
  const deadline = Date.now() + timeoutMs;
  const samples: { at: number; calls: number }[] = [];
  const before = apiCalls(await counters(d), realmId);
  let shown = -1;
  for (;;) {
    const { runs } = await getJson<{ runs: RunView[] }>(
      `${d.sync}/runs?connectionId=${connectionId}&mode=initial&limit=1`,
      d.orgBearer,
      'read the load',
    );
    const calls = apiCalls(await counters(d), realmId) - before;
    samples.push({ at: Date.now(), calls });
    const run = runs[0];
    const percent = run?.status === 'completed' ? 100 : (run?.progress.percent ?? 0);
    const tenth = Math.floor(percent / 10);
    if (run && tenth !== shown) {
      shown = tenth;
      d.step(
        `initial sync ${bar(percent)} ${run.progress.records}/${run.progress.estimate ?? '?'} records, ` +
          `${run.progress.pages} pages, ${calls} calls (Intuit allows 500/min per realm)`,
      );
    }
    if (run?.status === 'completed') return { run, calls, busiestMinute: busiest(samples) };
    if (run?.status === 'failed') d.step('the load failed; sync-service retries it');
    if (Date.now() > deadline)
      throw new Error(`the initial sync is not complete after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** The most calls in any 60 s of the samples. */
function busiest(samples: readonly { at: number; calls: number }[]): number {
  let most = 0;
  for (const end of samples) {
    const start = samples.find((s) => s.at >= end.at - 60_000) ?? end;
    most = Math.max(most, end.calls - start.calls);
  }
  return most;
}
