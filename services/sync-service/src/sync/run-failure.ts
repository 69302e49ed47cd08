import { ConnectionSyncFailing, SyncFailed } from '@qbo/events';
import { query } from '@qbo/service-kit';
import { callIdOf, type FailureSummary, recordFailure as knownFailure } from '../domain/failure.js';
import { type Lease, renewLease } from '../store/lease.js';
import { closeAbandonedRuns, finishRun, type RunMode } from '../store/runs.js';
import type { Em } from '../store/sql.js';
import { recordRunError } from '../store/sync-errors.js';
import { recordFailure, type SyncTarget, scheduleNext } from '../store/targets.js';
import type { ClaimDeps } from './ports.js';
import type { SyncSession } from './session.js';

/** The code of a run whose replica died before it ended (`domain/failure.ts`). */
const INTERRUPTED = 'run_interrupted';

export interface RunFailureDeps extends Pick<ClaimDeps, 'orm' | 'outbox' | 'events' | 'log'> {
  options: { leaseTtlMs: number; failureAlertAfter: number };
}

/**
 * How a run ends when it does not complete: its row, its `SyncFailed`, the company's failure count and retry,
 * its error row and the alert after repeated failures; and the runs a dead replica left marked running.
 */
export function createRunFailures(deps: RunFailureDeps) {
  const { orm, options, log } = deps;

  /**
   * Closes, with a `SyncFailed` each, the runs of the org that a dead replica left marked running, so the feed
   * and the run rows end every run they started. Runs in the new run's transaction, under the org's lease.
   */
  async function failAbandonedRuns(em: Em, target: SyncTarget): Promise<void> {
    const failure: FailureSummary = { code: INTERRUPTED, ...knownFailure(INTERRUPTED) };
    for (const run of await closeAbandonedRuns(em, target.orgId, failure)) {
      log.warn({ runId: run.runId, orgId: target.orgId, mode: run.mode }, 'sync run interrupted; closed');
      await deps.outbox.add(
        em,
        deps.events(SyncFailed, {
          orgId: target.orgId,
          realmId: run.realmId,
          data: {
            syncRunId: run.runId,
            connectionId: run.connectionId,
            mode: run.mode,
            startedAt: run.startedAt.toISOString(),
            failedAt: new Date().toISOString(),
            error: failure,
            attempts: target.attempts + 1,
            willRetry: true,
            counts: { upserted: run.upserted, deleted: run.deleted, unchanged: run.unchanged },
          },
        }),
      );
    }
  }

  async function recordRunFailure(
    target: SyncTarget,
    lease: Lease,
    session: SyncSession,
    base: { syncRunId: string; connectionId: string; mode: RunMode },
    startedAt: Date,
    failure: FailureSummary,
    plan: { willRetry: boolean; delayMs: number },
    err: unknown,
  ): Promise<void> {
    const { runId } = session;
    try {
      await orm.em.fork().transactional(async (em) => {
        const rows = await query<{ status: string }>(
          em,
          'select status from sync_run where run_id = $1 for update',
          [runId],
        );
        if (rows[0] && rows[0].status !== 'running') {
          // The org's next holder already closed it (`run_interrupted`, with its SyncFailed): this replica lost
          // the org meanwhile, and has nothing of the run left to say.
          log.warn({ runId, err: failure }, 'sync run already closed by the org’s next holder');
          return;
        }
        const totals = rows.length > 0 ? await finishRun(em, runId, 'failed', failure) : undefined;
        if (rows.length > 0) await session.flushEntityCalls(em);
        await deps.outbox.add(
          em,
          deps.events(SyncFailed, {
            orgId: target.orgId,
            realmId: target.realmId,
            data: {
              ...base,
              startedAt: startedAt.toISOString(),
              failedAt: new Date().toISOString(),
              error: failure,
              attempts: target.attempts + 1,
              willRetry: plan.willRetry,
              counts: {
                upserted: totals?.upserted ?? 0,
                deleted: totals?.deleted ?? 0,
                unchanged: totals?.unchanged ?? 0,
              },
            },
          }),
        );
        // A run that lost its lease, whatever error it met, leaves the company's schedule to the new holder.
        // The company's row is locked before the lease's, in the order of a claim.
        await query(em, 'select 1 from sync_target where org_id = $1 and realm_id = $2 for update', [
          target.orgId,
          target.realmId,
        ]);
        if (failure.code !== 'lease_lost' && (await renewLease(em, lease, options.leaseTtlMs))) {
          await recordFailure(em, target, failure);
          await scheduleNext(em, target, plan.delayMs, false);
          const entity = (err as { entityType?: unknown } | null)?.entityType;
          await recordRunError(em, target, runId, failure, {
            callId: callIdOf(err),
            entity: typeof entity === 'string' ? entity : undefined,
          });
          const consecutive = target.attempts + 1;
          if (consecutive === options.failureAlertAfter) {
            await deps.outbox.add(
              em,
              deps.events(ConnectionSyncFailing, {
                orgId: target.orgId,
                realmId: target.realmId,
                data: {
                  connectionId: target.connectionId,
                  realmId: target.realmId,
                  consecutiveFailures: consecutive,
                  lastSyncRunId: runId,
                  lastError: failure,
                  willRetry: plan.willRetry,
                  failedAt: new Date().toISOString(),
                },
              }),
            );
            log.warn(
              { orgId: target.orgId, realmId: target.realmId, consecutive },
              'sync failing repeatedly',
            );
          }
        }
      });
    } catch (err) {
      log.error({ err, runId }, 'could not record a failed sync run');
    }
  }

  return { failAbandonedRuns, recordRunFailure };
}
