import { type Meter, metrics } from '@opentelemetry/api';
import type { Catalog } from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { Kafka } from 'kafkajs';
import { backoffDelay, pause, type RetryPolicy } from '../consumer/backoff.js';
import { createEventProducer, type EventProducer, type ValidatedEvent } from '../producer.js';
import type { Serde } from '../serde/serde.js';
import { table } from '../sql.js';
import type { TopicNames } from '../topic-names.js';
import { createPgSession, DatabaseStepError } from './pg-session.js';
import { outboxQueries } from './queries.js';

export interface OutboxRow extends ValidatedEvent {
  seq: string;
}

export interface OutboxRelayOptions {
  /** The service's database; the relay holds one session of its own (the leader lock lives in it). */
  connectionString: string;
  schema: string;
  kafka: Kafka;
  serde: Serde;
  log: Logger;
  catalog?: Catalog;
  names?: TopicNames;
  /** Rows per read and per Kafka request. */
  batchSize?: number;
  /** The topics' `max.message.bytes`: larger batches are sent in several requests, one after the other. */
  maxMessageBytes?: number;
  /** How long the leader waits before looking again when the outbox is empty. */
  idlePollMs?: number;
  /** How often a standby replica tries to become the leader. */
  standbyPollMs?: number;
  /** Backoff between failed attempts (Kafka or the database down): patient, never giving up. */
  backoff?: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>;
  /** Sent rows are deleted once older than this (they are only kept for inspection). */
  retainSentMs?: number;
  meter?: Meter;
  /** Observation points around the publish, e.g. to stop a process there in a crash test. */
  hooks?: {
    beforePublish?: (rows: readonly OutboxRow[]) => Promise<void> | void;
    afterPublish?: (rows: readonly OutboxRow[]) => Promise<void> | void;
  };
}

export interface RelayStats {
  leader: boolean;
  published: number;
  batches: number;
  failures: number;
}

export interface OutboxRelay {
  start(): void;
  /** Finishes the batch in hand, releases the leadership, disconnects. */
  stop(): Promise<void>;
  stats(): Readonly<RelayStats>;
}

/**
 * Publishes outbox rows to Kafka in `seq` order and marks them sent. One replica at a time is the leader,
 * holding a session advisory lock, so per-key order holds however many replicas run; the others stand by
 * and take over when the leader's session ends (stop, crash, lost connection). A row is marked sent only
 * after Kafka acknowledged it, so a crash in between republishes it: delivery is at least once, and
 * consumers deduplicate by event id (inbox). Kafka or the database being down is waited out, with backoff.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const {
    connectionString,
    schema,
    kafka,
    serde,
    batchSize = 1_000,
    idlePollMs = 100,
    standbyPollMs = 1_000,
    retainSentMs = 86_400_000,
    hooks = {},
  } = options;
  const log = options.log.child({ component: 'outbox-relay', schema });
  const backoff = {
    attempts: Number.POSITIVE_INFINITY,
    initialDelayMs: 200,
    maxDelayMs: 5_000,
    ...options.backoff,
  };
  const sql = outboxQueries(table(schema, 'outbox'));
  const lockName = `qbo-outbox-relay:${schema}`;
  const stats: RelayStats = { leader: false, published: 0, batches: 0, failures: 0 };
  const stopping = new AbortController();
  let oldestUnsentMs = 0;
  let lastPrune = 0;
  let producer: EventProducer | undefined;
  let loop: Promise<void> | undefined;

  const meter = options.meter ?? metrics.getMeter('@qbo/event-bus');
  const age = meter.createObservableGauge('qbo.outbox.oldest_unsent_age', {
    description: 'Age of the oldest outbox row not yet published, seen by the leader',
    unit: 'ms',
  });
  const observeAge = (r: { observe(v: number, a: Record<string, string>): void }) => {
    if (stats.leader) r.observe(oldestUnsentMs, { 'db.namespace': schema });
  };
  age.addCallback(observeAge);

  const sleep = (ms: number) => pause(ms, async () => undefined, stopping.signal);

  // The leader's session holds the lock and reads batches; marking sent rows runs on a second connection so
  // that it overlaps the next read and publish instead of waiting its turn.
  const leaderSession = createPgSession({
    connectionString,
    name: 'outbox-relay',
    log,
    // The relay wants the lowest unsent seqs, which the partial index `outbox_unsent` hands out in order.
    // Right after a burst of inserts the table's statistics are stale and the planner would rather scan
    // every unsent row and sort; in this session only, it is told not to.
    setup: 'set enable_seqscan = off; set enable_bitmapscan = off',
    onEnd: () => {
      // Losing the session while running is news; ending it on stop is the plan.
      if (stats.leader) log[stopping.signal.aborted ? 'info' : 'warn']('outbox relay gave up the leadership');
      stats.leader = false;
    },
  });
  const markSession = createPgSession({ connectionString, name: 'outbox-relay-mark', log });

  async function ensureProducer(): Promise<EventProducer> {
    if (!producer) {
      const p = createEventProducer({
        kafka,
        serde,
        log,
        ...(options.catalog ? { catalog: options.catalog } : {}),
        ...(options.names ? { names: options.names } : {}),
        ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
      });
      await p.connect();
      producer = p;
    }
    return producer;
  }

  async function resetProducer() {
    // A fresh producer gets a fresh producer id: kafkajs's idempotent sequence numbers can be left out of step
    // by a failed send, and the broker would refuse every later one.
    const p = producer;
    producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  /** The batch being published: the next one is read from the database meanwhile. */
  let inFlight: { rows: OutboxRow[]; publishing: Promise<void> } | undefined;

  function publish(rows: OutboxRow[]) {
    const publishing = (async () => {
      await hooks.beforePublish?.(rows);
      await (await ensureProducer()).publishValidated(rows);
      await hooks.afterPublish?.(rows);
    })();
    // Awaited later; until then a rejection must not count as unhandled.
    publishing.catch(() => undefined);
    inFlight = { rows, publishing };
  }

  const fetchBatch = (exclude: readonly string[]) =>
    leaderSession
      .run((c) => c.query<OutboxRow & { created_ms: number }>(sql.fetch, [batchSize, bigintArray(exclude)]))
      .then((r) => r.rows);

  /** Seqs published but not yet marked sent: the next reads leave them out. */
  const marking = new Set<string>();
  let marks: Promise<void> = Promise.resolve();

  /**
   * Marks published rows sent, in the background and in order. If it fails, the rows are left unsent and
   * published again later: a duplicate, which consumers absorb, never a loss.
   */
  function markSent(rows: readonly OutboxRow[]) {
    const seqs = rows.map((r) => r.seq);
    for (const seq of seqs) marking.add(seq);
    marks = marks.then(async () => {
      try {
        await markSession.run((c) => c.query(sql.markSent, [bigintArray(seqs)]));
        stats.published += rows.length;
        stats.batches++;
      } catch (err) {
        log.warn({ err }, 'outbox relay could not mark a published batch; it will be sent again');
      } finally {
        for (const seq of seqs) marking.delete(seq);
      }
    });
  }

  /**
   * One turn of the leader: read the next batch while the previous one is on its way to Kafka, then, once
   * Kafka acknowledged the previous one, mark it sent and send the next. Batches are sent one after the
   * other, so rows reach Kafka in seq order.
   */
  async function step(): Promise<void> {
    if (!stats.leader) {
      const { rows } = await leaderSession.run((c) => c.query<{ locked: boolean }>(sql.tryLock, [lockName]));
      if (!rows[0]?.locked) {
        await sleep(standbyPollMs);
        return;
      }
      stats.leader = true;
      log.info('outbox relay is the leader');
    }
    const current = inFlight;
    const next = await fetchBatch([...marking, ...(current ? current.rows.map((r) => r.seq) : [])]);
    if (current) {
      try {
        await current.publishing;
      } finally {
        inFlight = undefined;
      }
      markSent(current.rows);
    }
    oldestUnsentMs = next[0] ? Math.max(0, Date.now() - next[0].created_ms) : 0;
    if (next.length > 0) return publish(next);
    if (!current) {
      // Idle: let the marks land first, so the next read does not have to leave them out.
      await marks;
      await prune();
      await sleep(idlePollMs);
    }
  }

  /** On stop: let the batch in flight finish and mark it, so a clean stop leaves nothing to send twice. */
  async function settle() {
    const current = inFlight;
    inFlight = undefined;
    if (!current) return;
    try {
      await current.publishing;
      markSent(current.rows);
    } catch (err) {
      log.warn({ err }, 'outbox relay stopped with a batch unconfirmed; it will be sent again');
    }
  }

  /** Deletes sent rows past their retention, a bounded number at most once a minute. */
  async function prune() {
    if (Date.now() - lastPrune < 60_000) return;
    lastPrune = Date.now();
    await leaderSession.run((c) => c.query(sql.prune, [retainSentMs / 1000]));
  }

  async function run() {
    let failing = 0;
    while (!stopping.signal.aborted) {
      try {
        await step();
        if (failing > 0) log.info({ failedAttempts: failing }, 'outbox relay recovered');
        failing = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        failing++;
        stats.failures++;
        inFlight = undefined;
        if (!(err instanceof DatabaseStepError)) await resetProducer();
        // Once per outage at warn, then quietly: an outage of minutes must not flood the logs.
        log[failing === 1 ? 'warn' : 'debug']({ err, failing }, 'outbox relay step failed; retrying');
        await sleep(backoffDelay(backoff, failing));
      }
    }
  }

  return {
    start() {
      loop ??= run();
    },
    async stop() {
      stopping.abort();
      await loop;
      await settle();
      await marks;
      age.removeCallback(observeAge);
      await resetProducer();
      if (leaderSession.open) {
        await leaderSession.run((c) => c.query('select pg_advisory_unlock_all()')).catch(() => undefined);
      }
      await leaderSession.end();
      await markSession.end();
      log.info({ published: stats.published }, 'outbox relay stopped');
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * Seqs as a Postgres array literal: they are digits only, and one string parameter spares the driver escaping a
 * thousand elements one by one on every batch.
 */
const bigintArray = (seqs: readonly string[]) => `{${seqs.join(',')}}`;
