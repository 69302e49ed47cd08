import type { TestDatabase } from '@qbo/testkit';

/** Where a load's wall time went, in ms, each measured from the rows the run left behind. */
export interface Breakdown {
  /** The connection published → the run row started: consumer, projection and the worker's poll. */
  toStart: number;
  /** Calls to Intuit, from sending the request to reading the whole answer (qbo_api_log.duration_ms). */
  inCalls: number;
  /** Waiting for the realm's budget before a call (qbo_api_log.budget_wait_ms). */
  budgetWait: number;
  /** Between one call's answer and the next call's budget request: the page's parse, transaction, token. */
  betweenCalls: number;
  /** The last answer → the run completed: its closing transaction. */
  toComplete: number;
  /** The run completed → the last outbox row acknowledged by Kafka. */
  relayLag: number;
  calls: number;
}

interface Call {
  at: Date;
  duration_ms: number;
  budget_wait_ms: number;
}

/** The load run's API log rows and outbox timestamps, turned into a breakdown of its wall time. */
export async function breakdown(
  db: TestDatabase,
  realmId: string,
  connectedAt: number,
  run: { started_at: Date; finished_at: Date | null },
): Promise<Breakdown> {
  const finished = (run.finished_at as Date).getTime();
  const calls = await db.query<Call>(
    `select at, duration_ms, budget_wait_ms from sync.qbo_api_log
     where realm_id = $1 and at >= $2 and at <= $3 order by at`,
    [realmId, run.started_at, run.finished_at],
  );
  const [sent] = await db.query<{ last: Date }>('select max(sent_at) as last from sync.outbox');
  let inCalls = 0;
  let budgetWait = 0;
  let betweenCalls = 0;
  let previousEnd: number | undefined;
  for (const c of calls) {
    const start = c.at.getTime();
    inCalls += c.duration_ms;
    budgetWait += c.budget_wait_ms;
    if (previousEnd !== undefined) betweenCalls += start - c.budget_wait_ms - previousEnd;
    previousEnd = start + c.duration_ms;
  }
  const first = calls[0];
  return {
    toStart: run.started_at.getTime() - connectedAt,
    inCalls,
    budgetWait,
    // Before the first call: the run's own start (its row, the lease, the token).
    betweenCalls:
      betweenCalls +
      (first ? first.at.getTime() - first.budget_wait_ms : finished) -
      run.started_at.getTime(),
    toComplete: finished - (previousEnd ?? finished),
    relayLag: (sent?.last.getTime() ?? finished) - finished,
    calls: calls.length,
  };
}

/** Time Postgres spent on the sync's database: executing statements, and holding transactions open idle. */
export async function databaseTime(
  db: TestDatabase,
): Promise<{ activeMs: number; idleInTxMs: number; commits: number }> {
  const [row] = await db.query<{
    active_time: number;
    idle_in_transaction_time: number;
    xact_commit: string;
  }>(
    `select active_time, idle_in_transaction_time, xact_commit from pg_stat_database
     where datname = current_database()`,
  );
  return {
    activeMs: Number(row?.active_time ?? 0),
    idleInTxMs: Number(row?.idle_in_transaction_time ?? 0),
    commits: Number(row?.xact_commit ?? 0),
  };
}
