/** A run row's facts, as the store reads them. */
export interface RunFacts {
  run_id: string;
  org_id: string;
  realm_id: string;
  connection_id: string;
  trigger: string;
  mode: string;
  entities: string[];
  status: string;
  generation: number | null;
  pages: number;
  upserted: number;
  deleted: number;
  unchanged: number;
  api_calls: number;
  estimate_total: number | null;
  error: { category?: unknown; code?: unknown } | null;
  started_at: Date;
  finished_at: Date | null;
}

/**
 * A run as the API shows it. Progress counts records read (upserted, deleted, unchanged) against the load's
 * estimate (Intuit's COUNT, taken before the load; only loads have one), capped at 100 % because records
 * created during a load are read too. A running run's duration is its age. A failure shows its category and
 * code only, never a message.
 */
export function runView(r: RunFacts, now: Date) {
  const records = r.upserted + r.deleted + r.unchanged;
  const estimate = r.estimate_total;
  const started = new Date(r.started_at);
  const end = r.finished_at === null ? now : new Date(r.finished_at);
  return {
    id: r.run_id,
    orgId: r.org_id,
    realmId: r.realm_id,
    connectionId: r.connection_id,
    status: r.status,
    mode: r.mode,
    trigger: r.trigger,
    entities: r.entities,
    generation: r.generation,
    progress: {
      pages: r.pages,
      records,
      estimate,
      percent: estimate && estimate > 0 ? Math.min(100, Math.floor((records * 100) / estimate)) : null,
    },
    counts: { upserted: r.upserted, deleted: r.deleted, unchanged: r.unchanged },
    apiCalls: r.api_calls,
    startedAt: started.toISOString(),
    finishedAt: r.finished_at === null ? null : end.toISOString(),
    durationMs: Math.max(0, end.getTime() - started.getTime()),
    error:
      r.error === null
        ? null
        : {
            category: typeof r.error.category === 'string' ? r.error.category : 'internal',
            code: typeof r.error.code === 'string' ? r.error.code : 'internal_error',
          },
  };
}
