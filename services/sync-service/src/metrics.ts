import { type Meter, metrics } from '@opentelemetry/api';

/** What a run reports as it goes and when it ends; no org or realm label (unbounded), the logs carry those. */
export interface SyncMetrics {
  page(mode: string, counts: { upserted: number; deleted: number; unchanged: number; calls: number }): void;
  run(mode: string, outcome: 'completed' | 'failed', ms: number): void;
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
  return {
    page(mode, c) {
      pages.add(1, { mode });
      calls.add(c.calls, { mode });
      for (const outcome of ['upserted', 'deleted', 'unchanged'] as const) {
        if (c[outcome] > 0) records.add(c[outcome], { mode, outcome });
      }
    },
    run(mode, outcome, ms) {
      runs.add(1, { mode, outcome });
      duration.record(ms, { mode, outcome });
    },
  };
}
