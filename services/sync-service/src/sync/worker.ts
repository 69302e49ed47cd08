import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AppError, type Logger, type MikroORM } from '@qbo/service-kit';
import { isPaused } from '../store/controls.js';
import { acquireLease, FencedError, type Lease, releaseLease, renewLease } from '../store/lease.js';
import { dueTargets, markClaimed, type SyncTarget } from '../store/targets.js';
import { runTraceOrigin } from './run-trace.js';
import type { Runner } from './runner.js';

const tracer = trace.getTracer('sync-service');

/** Why a run was cut short when its company was paused through the API: it resumes when the company does. */
export class SyncPausedError extends AppError {
  readonly category = 'internal';
  readonly remediation = 'The company was paused; the run resumes from its last committed page on resume.';
  constructor() {
    super('sync_paused', 'the company was paused during the run', { retryable: true });
    this.name = 'SyncPausedError';
  }
}

/** Why a run was cut short when its replica stops: it resumes from its last page elsewhere or after restart. */
export class ReplicaStoppingError extends AppError {
  constructor() {
    super('replica_stopping', 'this replica is stopping; the run resumes from its last committed page', {
      retryable: true,
    });
    this.name = 'ReplicaStoppingError';
  }
}

export interface WorkerOptions {
  orm: MikroORM;
  runner: Runner;
  log: Logger;
  /** This replica's name in the lease table: unique per process, so a restarted process is a new holder. */
  holder: string;
  /** Runs at once in this replica: one big company never takes every slot, and the others keep their turn. */
  maxConcurrent: number;
  pollMs: number;
  leaseTtlMs: number;
}

export interface Worker {
  start(): void;
  /** Stops claiming, aborts the runs in flight (their committed pages stay) and releases their leases. */
  stop(): Promise<void>;
  /** Runs in flight now. */
  active(): number;
}

/**
 * Claims due companies and runs them, at most `maxConcurrent` at once. A claim takes the company's row with
 * `skip locked` (replicas never claim the same one) and the org's lease (one writer per org), and moves its
 * schedule past the lease, so a run lost with its replica is picked up again when the lease has expired.
 * While a run lasts, a heartbeat extends its lease; a heartbeat that finds the lease gone aborts the run.
 */
export function createWorker(opts: WorkerOptions): Worker {
  const { orm, runner, log } = opts;
  const running = new Map<string, Promise<void>>();
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  async function claim(limit: number): Promise<{ target: SyncTarget; lease: Lease }[]> {
    return orm.em.fork().transactional(async (em) => {
      const claimed: { target: SyncTarget; lease: Lease }[] = [];
      for (const target of await dueTargets(em, limit * 2)) {
        if (claimed.length >= limit) break;
        if (running.has(target.orgId) || claimed.some((c) => c.target.orgId === target.orgId)) continue;
        const lease = await acquireLease(em, target.orgId, opts.holder, opts.leaseTtlMs);
        if (!lease) continue;
        await markClaimed(em, target, opts.leaseTtlMs * 2);
        claimed.push({ target, lease });
      }
      return claimed;
    });
  }

  function launch(target: SyncTarget, lease: Lease): void {
    const abort = new AbortController();
    const onStop = () => abort.abort(new ReplicaStoppingError());
    stopping.signal.addEventListener('abort', onStop);
    const beat = setInterval(
      () => {
        heartbeat(lease, target).then(
          ({ held, paused }) => {
            if (!held) {
              log.warn({ orgId: lease.orgId }, 'sync lease lost; stopping the run');
              // The run fails as `lease_lost`, so it leaves the company's schedule to the new holder.
              abort.abort(new FencedError(lease.orgId));
            } else if (paused) {
              // A pause means no further call to Intuit for the company, a run in flight included.
              log.info({ orgId: target.orgId, realmId: target.realmId }, 'company paused; stopping the run');
              abort.abort(new SyncPausedError());
            }
          },
          (err) => log.warn({ err, orgId: lease.orgId }, 'sync lease heartbeat failed'),
        );
      },
      Math.max(50, opts.leaseTtlMs / 3),
    );
    // The claim continues the trace of whoever asked for it (a notification, a command, an API call), so its
    // runs, their Intuit calls and the events they write share that trace id; a scheduled claim starts its own.
    const origin = runTraceOrigin(target.asked);
    const work = tracer
      .startActiveSpan(
        'sync claim',
        {
          kind: SpanKind.INTERNAL,
          links: origin.links,
          attributes: { 'qbo.sync.trigger': target.trigger, 'qbo.sync.linked_asks': origin.links.length },
        },
        origin.parent,
        (span) =>
          runner
            .run(target, lease, abort.signal)
            .catch((err) => {
              span.setStatus({ code: SpanStatusCode.ERROR, message: 'sync run crashed' });
              log.error({ err, orgId: target.orgId }, 'sync run crashed');
            })
            .finally(() => span.end()),
      )
      .finally(async () => {
        clearInterval(beat);
        stopping.signal.removeEventListener('abort', onStop);
        await orm.em
          .fork()
          .transactional((em) => releaseLease(em, lease))
          .catch((err) => log.warn({ err, orgId: lease.orgId }, 'could not release the sync lease'));
        running.delete(target.orgId);
        schedule(0);
      });
    running.set(target.orgId, work);
  }

  const heartbeat = (lease: Lease, target: SyncTarget) =>
    orm.em.fork().transactional(async (em) => ({
      held: await renewLease(em, lease, opts.leaseTtlMs),
      paused: await isPaused(em, target),
    }));

  async function poll(): Promise<void> {
    const free = opts.maxConcurrent - running.size;
    if (free <= 0 || stopping.signal.aborted) return;
    try {
      for (const { target, lease } of await claim(free)) launch(target, lease);
    } catch (err) {
      log.warn({ err }, 'claiming due syncs failed; trying again');
    }
  }

  function schedule(delayMs: number): void {
    if (stopping.signal.aborted) return;
    if (timer) clearTimeout(timer);
    // Polls belong to no run's trace, whichever run's end asked for the next one.
    timer = setTimeout(
      context.bind(ROOT_CONTEXT, () => {
        timer = undefined;
        polling ??= poll().finally(() => {
          polling = undefined;
          schedule(opts.pollMs);
        });
      }),
      delayMs,
    );
  }

  return {
    start: () => schedule(0),
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await polling;
      await Promise.allSettled([...running.values()]);
    },
    active: () => running.size,
  };
}
