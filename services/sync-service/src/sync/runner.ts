import { randomUUID } from 'node:crypto';
import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { SyncCompleted, SyncStarted } from '@qbo/events';
import { execute } from '@qbo/service-kit';
import { declsFor } from '../domain/entities.js';
import { retryPlan, summarise } from '../domain/failure.js';
import { createSyncMetrics, type SyncMetrics } from '../metrics.js';
import { createPushes } from '../push/executor.js';
import type { Lease } from '../store/lease.js';
import type { PageCounts } from '../store/mirror.js';
import { finishRun, insertRun, type RunMode, type RunTrigger, setMode } from '../store/runs.js';
import { closeRunErrors, runErrorCount } from '../store/sync-errors.js';
import { readTarget, restoreSchedule, type SyncTarget, scheduleNext } from '../store/targets.js';
import { runDelta } from './delta.js';
import { completeLoad, runLoad } from './load.js';
import { nextRunDelay } from './next-run.js';
import type { ClaimDeps } from './ports.js';
import { reconcileEntity } from './reconcile.js';
import { createRetries } from './retry.js';
import { createRunFailures } from './run-failure.js';
import { openSession, type SyncSession } from './session.js';

export interface RunnerOptions {
  pageSize: number;
  marginMs: number;
  leaseTtlMs: number;
  intervalMs: number;
  reconcileIntervalMs: number;
  cdcWindowMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failed runs of a company after which `ConnectionSyncFailing` is emitted. */
  failureAlertAfter: number;
  /** How soon a record retried by command may be asked of Intuit again. */
  retryRecordIntervalMs: number;
}

export interface RunnerDeps extends ClaimDeps {
  options: RunnerOptions;
  metrics?: SyncMetrics;
  random?: () => number;
  /**
   * Resolves once the calls made so far are in `qbo_api_log` (or the log's writer gave up for now, which it
   * warns of): a run ends only after, so the calls of a run shown as ended can all be read.
   */
  apiLogFlushed?: () => Promise<void>;
}

export interface Runner {
  /** Syncs one claimed company under the lease: its load, or its delta and any reconciliation due. */
  run(target: SyncTarget, lease: Lease, signal: AbortSignal): Promise<void>;
}

const TRIGGERS: readonly RunTrigger[] = ['connection', 'schedule', 'webhook', 'command', 'resume'];

const tracer = trace.getTracer('sync-service');

export function createRunner(deps: RunnerDeps): Runner {
  const { orm, options, log } = deps;
  const metrics = deps.metrics ?? createSyncMetrics();
  const random = deps.random ?? Math.random;
  const apiLogFlushed = deps.apiLogFlushed ?? (async () => {});
  const retries = createRetries({
    ...deps,
    leaseTtlMs: options.leaseTtlMs,
    retryIntervalMs: options.retryRecordIntervalMs,
    metrics,
  });
  const { failAbandonedRuns, recordRunFailure } = createRunFailures(deps);
  const pushes = createPushes({
    ...deps,
    leaseTtlMs: options.leaseTtlMs,
    retryDelayMs: options.retryBaseMs,
    metrics,
  });

  /**
   * One run row and its events around `work`, in a span of its own (a child of the claim's), so its Intuit
   * calls, their `qbo_api_log` rows and the events it writes carry the trace the claim continues.
   */
  function oneRun(
    target: SyncTarget,
    lease: Lease,
    signal: AbortSignal,
    mode: RunMode,
    work: (s: SyncSession) => Promise<PageCounts>,
  ): Promise<boolean> {
    const runId = randomUUID();
    return tracer.startActiveSpan(
      'sync run',
      { attributes: { 'qbo.sync.run_id': runId, 'qbo.sync.mode': mode } },
      (span) => runOnce(span, runId, target, lease, signal, mode, work).finally(() => span.end()),
    );
  }

  /** Failures are recorded and scheduled, never thrown. */
  async function runOnce(
    span: Span,
    runId: string,
    target: SyncTarget,
    lease: Lease,
    signal: AbortSignal,
    mode: RunMode,
    work: (s: SyncSession) => Promise<PageCounts>,
  ): Promise<boolean> {
    const decls = declsFor(target.entities);
    const session = openSession(
      { orm, qbo: deps.qbo, feed: deps.feed, leaseTtlMs: options.leaseTtlMs, signal, metrics, log, mode },
      target,
      lease,
      runId,
      decls,
    );
    const trigger = (TRIGGERS as readonly string[]).includes(target.trigger)
      ? (target.trigger as RunTrigger)
      : 'schedule';
    span.setAttribute('qbo.sync.trigger', trigger);
    const base = { syncRunId: runId, connectionId: target.connectionId, mode };
    let startedAt = new Date();
    try {
      startedAt = await session.write(async (em) => {
        await failAbandonedRuns(em, target);
        const started = await insertRun(em, {
          runId,
          orgId: target.orgId,
          realmId: target.realmId,
          connectionId: target.connectionId,
          trigger,
          mode,
          entities: target.entities,
          generation: mode === 'initial' ? target.generation : undefined,
        });
        await deps.outbox.add(
          em,
          deps.events(SyncStarted, {
            orgId: target.orgId,
            realmId: target.realmId,
            data: { ...base, trigger, entities: target.entities, startedAt: started.toISOString() },
          }),
        );
        return started;
      });
      log.info({ runId, orgId: target.orgId, realmId: target.realmId, mode, trigger }, 'sync run started');
      await work(session);
      await apiLogFlushed();
      const ended = await session.write(async (em) => {
        await session.flushEntityCalls(em);
        await closeRunErrors(em, target, runId);
        const totals = await finishRun(em, runId, 'completed');
        const apiCalls = totals.apiCalls + session.takeCalls();
        await deps.outbox.add(
          em,
          deps.events(SyncCompleted, {
            orgId: target.orgId,
            realmId: target.realmId,
            data: {
              ...base,
              startedAt: startedAt.toISOString(),
              completedAt: new Date().toISOString(),
              counts: { upserted: totals.upserted, deleted: totals.deleted, unchanged: totals.unchanged },
              apiCalls,
              failedItems: await runErrorCount(em, runId),
            },
          }),
        );
        if (mode !== 'reconciliation') {
          await scheduleNext(
            em,
            target,
            nextRunDelay({
              intervalMs: target.intervalMs ?? options.intervalMs,
              scheduleAt: target.scheduleAt,
              scheduleDue: target.scheduleDue,
              startedAt: startedAt.getTime(),
              random,
            }),
            true,
          );
        }
        log.info({ runId, mode, ...totals }, 'sync run completed');
        return { records: totals.upserted + totals.deleted + totals.unchanged, calls: apiCalls };
      });
      metrics.run(mode, 'completed', Date.now() - startedAt.getTime(), ended);
      return true;
    } catch (err) {
      // A run its worker cut short fails for the worker's reason (lease lost, replica stopping), whatever the
      // call in flight made of the abort.
      const failure = summarise(signal.aborted && signal.reason !== undefined ? signal.reason : err);
      const plan = retryPlan(failure, target.attempts, {
        baseMs: options.retryBaseMs,
        maxMs: options.retryMaxMs,
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.code });
      log.warn({ runId, mode, err: failure, willRetry: plan.willRetry }, 'sync run failed');
      await apiLogFlushed();
      await recordRunFailure(target, lease, session, base, startedAt, failure, plan, err);
      metrics.run(mode, 'failed', Date.now() - startedAt.getTime());
      return false;
    }
  }

  return {
    async run(target, lease, signal) {
      if (!target.needsLoad) {
        // Write-back first: a command waits for no sync, and the delta after it finds its version already mirrored.
        await pushes.run(target, lease, signal);
        await retries.run(target, lease, signal);
        // Claimed only for a retry or a push: the company's schedule stays as it was, and no sync runs.
        if (
          (target.trigger === 'retry' || target.trigger === 'push') &&
          !target.scheduleDue &&
          !target.reconcileDue
        ) {
          await orm.em
            .fork()
            .transactional((em) => restoreSchedule(em, target, target.scheduleAt))
            .catch((err: unknown) =>
              log.warn({ err, orgId: target.orgId }, 'could not restore the schedule'),
            );
          return;
        }
      }
      if (target.needsLoad) {
        // A resync of some entities reads only those the company still syncs.
        const resync = target.loadEntities?.filter((e) => target.entities.includes(e)) ?? null;
        const state = {
          snapshotRunId: target.loadRunId ?? randomUUID(),
          generation: target.generation + (target.loadRunId ? 0 : 1),
          until: target.loadUntil,
          resync: resync !== null && resync.length > 0 ? resync : null,
        };
        if (!target.loadRunId) {
          await orm.em
            .fork()
            .transactional((em) =>
              execute(
                em,
                'update sync_target set load_run_id = $3, generation = $4 where org_id = $1 and realm_id = $2',
                [target.orgId, target.realmId, state.snapshotRunId, state.generation],
              ),
            );
        }
        const entities = state.resync ?? target.entities;
        const loadTarget = { ...target, entities: [...entities], generation: state.generation };
        const loaded = await oneRun(loadTarget, lease, signal, 'initial', async (s) => {
          const counts = await runLoad(s, state, options);
          const end = await completeLoad(s, state, options.reconcileIntervalMs);
          return {
            upserted: counts.upserted + end.upserted,
            deleted: counts.deleted + end.deleted,
            unchanged: counts.unchanged + end.unchanged,
          };
        });
        // Commands that arrived during the load go once the company's mirror is complete.
        if (loaded && !signal.aborted) await pushes.run(target, lease, signal);
        return;
      }
      const since = target.cdcSince;
      const pastWindow =
        since === null ||
        (target.cdcAgeMs ?? Number.POSITIVE_INFINITY) + options.marginMs > options.cdcWindowMs;
      const ok = await oneRun(target, lease, signal, pastWindow ? 'query' : 'cdc', async (s) => {
        const result = await runDelta(s, since ?? 0, pastWindow, options);
        // Intuit refused the cursor as too old: the run's row says how it really read.
        if (result.mode !== (pastWindow ? 'query' : 'cdc'))
          await s.write((em) => setMode(em, s.runId, result.mode));
        return result.counts;
      });
      if (!ok || signal.aborted) return;
      const fresh = await readTarget(orm.em.fork(), target.orgId, target.realmId);
      if (!fresh?.reconcileDue) return;
      const entities = fresh.reconcileEntities.length > 0 ? fresh.reconcileEntities : target.entities;
      await oneRun({ ...fresh, entities }, lease, signal, 'reconciliation', async (s) => {
        const totals: PageCounts = { upserted: 0, deleted: 0, unchanged: 0 };
        for (const decl of declsFor(entities)) {
          const r = await reconcileEntity(s, decl, options);
          totals.upserted += r.upserted;
          totals.deleted += r.deleted;
        }
        await s.write((em) =>
          execute(
            em,
            `update sync_target set reconcile_entities = '{}',
               reconcile_at = now() + make_interval(secs => $3) where org_id = $1 and realm_id = $2`,
            [target.orgId, target.realmId, options.reconcileIntervalMs / 1000],
          ),
        );
        return totals;
      });
    },
  };
}
