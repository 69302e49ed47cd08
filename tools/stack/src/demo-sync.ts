import { createSerde, createTopicNames } from '@qbo/event-bus';
import { topics } from '@qbo/events';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

/** What the demo reads of a record event: enough to name the record and the run that emitted it. */
export interface RecordEvent {
  type: string;
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
      seen.push((await serde.decode(message.value)) as RecordEvent);
    },
  });
  return {
    async until(done, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(seen)) {
        if (Date.now() > deadline) throw new Error(`${what}: not on ${topic} after ${timeoutMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return [...seen];
    },
    stop: () => consumer.disconnect(),
  };
}

export interface SyncRun {
  runId: string;
  mode: string;
  status: string;
  pages: number;
  upserted: number;
  apiCalls: number;
  error: string | null;
}

/**
 * Follows the company's initial load in sync-service's own run table, printing a line whenever it has moved
 * on, until a run of it completes (a failed one is retried by the service). None within `timeoutMs` is an error.
 */
export async function followInitialSync(
  databaseUrl: string,
  realmId: string,
  step: (line: string) => void,
  timeoutMs = 120_000,
): Promise<SyncRun> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    let shown = '';
    for (;;) {
      const { rows } = await db.query<SyncRun>(
        `select run_id::text as "runId", mode, status, pages, upserted, api_calls as "apiCalls",
           error->>'code' as error
         from sync.sync_run where realm_id = $1 and mode = 'initial' order by started_at desc limit 1`,
        [realmId],
      );
      const run = rows[0];
      if (run?.status === 'completed') return run;
      const failed = run?.status === 'failed' ? ` (${run.error ?? 'no code'}); it is retried` : '';
      const line = run
        ? `${run.status}: ${run.pages} pages, ${run.upserted} records${failed}`
        : 'not started yet';
      if (line !== shown) step(`initial sync ${line}`);
      shown = line;
      if (Date.now() > deadline)
        throw new Error(`the initial sync is not complete after ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await db.end();
  }
}
