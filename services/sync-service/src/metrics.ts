import { type BatchObservableCallback, type Meter, metrics } from '@opentelemetry/api';
import { type MikroORM, query } from '@qbo/service-kit';

/**
 * What a run reports as it goes and when it ends. No org, realm or connection label: their number grows with
 * the customer base, and each would be a series per company in Prometheus; the logs, `sync_run` and
 * `qbo_api_log` carry those. (The one gauge by connection, freshness, is bounded: see `observeSyncState`.)
 */
export interface SyncMetrics {
  page(mode: string, counts: { upserted: number; deleted: number; unchanged: number; calls: number }): void;
  run(
    mode: string,
    outcome: 'completed' | 'failed',
    ms: number,
    totals?: { records: number; calls: number },
  ): void;
  /** One attempt at Intuit and the time it waited for the realm's budget (from its `qbo_api_log` row). */
  budgetWait(operation: string, ms: number): void;
}

export function createSyncMetrics(meter: Meter = metrics.getMeter('sync-service')): SyncMetrics {
  const records = meter.createCounter('qbo.sync.records', {
    description: 'Records read by sync runs, by mode and what came of them (upserted, deleted, unchanged)',
  });
  const pages = meter.createCounter('qbo.sync.pages', {
    description: 'Pages committed by sync runs, by mode',
  });
  const calls = meter.createCounter('qbo.sync.api_calls', {
    description: 'Accounting API calls made by sync runs, by mode',
  });
  const runs = meter.createCounter('qbo.sync.runs', { description: 'Sync runs ended, by mode and outcome' });
  const duration = meter.createHistogram('qbo.sync.run.duration', {
    description: 'How long sync runs took, by mode and outcome',
    unit: 'ms',
  });
  const runRecords = meter.createHistogram('qbo.sync.run.records', {
    description: 'Records read by each completed sync run, upserted, deleted and unchanged, by mode',
    unit: '{record}',
    advice: { explicitBucketBoundaries: [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] },
  });
  const runCalls = meter.createHistogram('qbo.sync.run.api_calls', {
    description: 'Accounting API calls made by each completed sync run, by mode',
    unit: '{call}',
    advice: { explicitBucketBoundaries: [0, 1, 2, 5, 10, 50, 100, 500, 1_000, 5_000] },
  });
  const callsPerRecord = meter.createHistogram('qbo.sync.run.calls_per_record', {
    description:
      'Accounting API calls per record read, for each completed sync run that read a record, by mode',
    advice: { explicitBucketBoundaries: [0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5] },
  });
  const budgetWait = meter.createHistogram('qbo.sync.budget.wait', {
    description: "Time each attempt at Intuit waited for its realm's request budget, by operation",
    unit: 'ms',
    advice: { explicitBucketBoundaries: [0, 10, 50, 100, 250, 500, 1_000, 5_000, 15_000, 60_000] },
  });
  return {
    page(mode, c) {
      pages.add(1, { mode });
      calls.add(c.calls, { mode });
      for (const outcome of ['upserted', 'deleted', 'unchanged'] as const) {
        if (c[outcome] > 0) records.add(c[outcome], { mode, outcome });
      }
    },
    run(mode, outcome, ms, totals) {
      runs.add(1, { mode, outcome });
      duration.record(ms, { mode, outcome });
      if (totals) {
        runRecords.record(totals.records, { mode });
        runCalls.record(totals.calls, { mode });
        if (totals.records > 0) callsPerRecord.record(totals.calls / totals.records, { mode });
      }
    },
    budgetWait(operation, ms) {
      budgetWait.record(ms, { operation });
    },
  };
}

/**
 * How many companies get a freshness series of their own: the stalest ones. See `observeSyncState`.
 */
export const FRESHNESS_SERIES = 20;

/**
 * Gauges read from the tables when Prometheus scrapes: how stale the stalest company is, the freshness of the
 * stalest few by connection, and the failures still open. Every replica reads the same rows, so a dashboard
 * takes their `max`.
 */
export function observeSyncState(
  orm: MikroORM,
  meter: Meter = metrics.getMeter('sync-service'),
  freshnessSeries: number = FRESHNESS_SERIES,
): () => void {
  const oldest = meter.createObservableGauge('qbo.sync.oldest_sync_age', {
    description:
      'Time since the last completed sync of the stalest active, unpaused company; since its connection when none completed yet',
    unit: 'ms',
  });
  // Per connection, but bounded: only the `freshnessSeries` stalest active, unpaused companies are observed at
  // each scrape, so the series at any time number at most that many however many companies the platform
  // serves (a label per company for all of them would grow with the customer base). The stale tail is what an
  // operator acts on; a company that syncs leaves the set and its series ends, and every company's
  // `lastSyncedAt` stays in `GET /connections`.
  const freshness = meter.createObservableGauge('qbo.sync.connection.sync_age', {
    description: `Time since the last completed sync of each of the ${freshnessSeries} stalest active, unpaused companies, since its connection when none completed yet, by connection id`,
    unit: 'ms',
  });
  const syncing = meter.createObservableGauge('qbo.sync.connections', {
    description: 'Active companies, by whether they are paused',
    unit: '{connection}',
  });
  const open = meter.createObservableGauge('qbo.sync.errors.open', {
    description:
      'Sync errors not yet resolved, the sync_error rows whose resolved_at is null, by kind and category',
    unit: '{error}',
  });
  const instruments = [oldest, freshness, syncing, open];
  const observe: BatchObservableCallback = async (r) => {
    const em = orm.em.fork();
    const [targets, errors, stalest] = await Promise.all([
      query<{ paused: boolean; n: number; age_ms: number | null }>(
        em,
        `select paused_at is not null as paused, count(*)::int as n,
                  (extract(epoch from now() - min(coalesce(last_synced_at, status_at))) * 1000)::float8 as age_ms
             from sync_target where status = 'active' group by 1`,
      ),
      query<{ kind: string; category: string; n: number }>(
        em.fork(),
        `select kind, category, count(*)::int as n from sync_error where resolved_at is null group by 1, 2`,
      ),
      query<{ connection_id: string; age_ms: number }>(
        em.fork(),
        `select connection_id::text,
                (extract(epoch from now() - coalesce(last_synced_at, status_at)) * 1000)::float8 as age_ms
           from sync_target where status = 'active' and paused_at is null
          order by coalesce(last_synced_at, status_at), connection_id limit $1`,
        [freshnessSeries],
      ),
    ]);
    r.observe(syncing, targets.find((t) => !t.paused)?.n ?? 0, { paused: 'false' });
    r.observe(syncing, targets.find((t) => t.paused)?.n ?? 0, { paused: 'true' });
    r.observe(oldest, targets.find((t) => !t.paused)?.age_ms ?? 0);
    for (const t of stalest) r.observe(freshness, t.age_ms, { connection: t.connection_id });
    for (const e of errors) r.observe(open, e.n, { kind: e.kind, category: e.category });
  };
  meter.addBatchObservableCallback(observe, instruments);
  return () => meter.removeBatchObservableCallback(observe, instruments);
}
