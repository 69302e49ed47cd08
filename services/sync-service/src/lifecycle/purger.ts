import { randomUUID } from 'node:crypto';
import type { Outbox } from '@qbo/event-bus';
import { ConnectionDataPurged, type EventFactory, formatSeq, RecordDeleted } from '@qbo/events';
import type { Logger, MikroORM } from '@qbo/service-kit';
import { acquireLease, type Lease, releaseLease } from '../store/lease.js';
import { allocateSeq } from '../store/mirror.js';
import {
  addPurgeCounts,
  claimDuePurges,
  completePurge,
  deleteMirrorRows,
  hasUnsentEvents,
  mirrorBatch,
  type Purge,
  purgeCounts,
  purgeRowsBatch,
  purgeSentEvents,
  releasePurgeClaim,
  startPurge,
} from '../store/purge.js';
import type { Em } from '../store/sql.js';

export interface PurgerOptions {
  orm: MikroORM;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
  /** Rows per batch: each batch is one short transaction, so syncs of the org's other companies go on between. */
  batchSize: number;
  leaseTtlMs: number;
  /** Batches one turn may run before it lets the next turn continue (a huge company takes several turns). */
  maxBatchesPerTurn?: number;
  now?: () => Date;
}

export interface Purger {
  /** Runs the due purges; resolves with the ones completed in this turn. */
  runDue(): Promise<string[]>;
}

type Step = 'done' | 'busy' | 'more';

/** Several times the API log writer's flush interval, and its retry of a failed insert. */
const API_LOG_SETTLE_MS = 5_000;

/**
 * Purges companies whose grace period ended or whose erasure was asked for. Writes to the change feed (a delete
 * per live record, then `ConnectionDataPurged`) happen under the org's lease, one batch per transaction, as a
 * sync's pages do: a purge never interleaves with a sync's write, waits (`busy`) while a sync holds the lease,
 * and lets syncs take the lease between its batches.
 */
export function createPurger(o: PurgerOptions): Purger {
  const { orm, log } = o;
  const holder = `purge:${randomUUID()}`;
  const now = o.now ?? (() => new Date());
  const maxBatches = o.maxBatchesPerTurn ?? 200;

  /** A transaction under the org's lease; `busy` when a sync (or another purge) holds it now. */
  const underLease = <T>(orgId: string, fn: (em: Em, lease: Lease) => Promise<T>) =>
    orm.em.fork().transactional(async (em0) => {
      const em = em0 as unknown as Em;
      const lease = await acquireLease(em, orgId, holder, o.leaseTtlMs);
      if (!lease) return 'busy' as const;
      const out = await fn(em, lease);
      await releaseLease(em, lease);
      return out;
    });

  const tx = <T>(fn: (em: Em) => Promise<T>) => orm.em.fork().transactional((em) => fn(em as unknown as Em));

  /** Deletes a batch of mirror rows, publishing a delete (and so a tombstone) for each live one. */
  const mirrorStep = (p: Purge): Promise<Step> =>
    underLease(p.orgId, async (em) => {
      const rows = await mirrorBatch(em, p, o.batchSize);
      if (rows.length === 0) return 'done';
      const live = rows.filter((r) => r.live);
      if (live.length > 0) {
        const first = await allocateSeq(em, p.orgId, live.length);
        const at = now().toISOString();
        await o.outbox.add(
          em,
          live.map((r, i) =>
            o.events(RecordDeleted, {
              orgId: p.orgId,
              realmId: p.realmId,
              data: {
                connectionId: p.connectionId,
                realmId: p.realmId,
                entity: r.entity,
                entityId: r.entity_id,
                seq: formatSeq(first + BigInt(i)),
                source: { origin: 'purge' },
                op: 'd',
                reason: 'realm_detached',
                deletedAt: at,
              },
            }),
          ),
        );
      }
      const deleted = await deleteMirrorRows(em, p, rows);
      await addPurgeCounts(em, p.purgeId, { records: deleted, tombstones: live.length });
      return rows.length < o.batchSize ? 'done' : 'more';
    });

  const rowsStep = (p: Purge, before: Date): Promise<Step> =>
    tx(async (em) => {
      const n = await purgeRowsBatch(em, p, before, o.batchSize);
      await addPurgeCounts(em, p.purgeId, { runs: n.runs, errors: n.errors, apiCalls: n.apiCalls });
      return n.runs + n.errors + n.apiCalls + n.other === 0 ? 'done' : 'more';
    });

  /** The last write: `ConnectionDataPurged` on the change log after every delete, and the audit rows. */
  const finalStep = (p: Purge): Promise<Step> =>
    underLease(p.orgId, async (em) => {
      // The deletes must reach Kafka before the copies of the records in the outbox go.
      if (await hasUnsentEvents(em, p)) return 'busy';
      await purgeSentEvents(em, p);
      const counts = await purgeCounts(em, p.purgeId);
      const seq = await allocateSeq(em, p.orgId, 1);
      const event = o.events(ConnectionDataPurged, {
        orgId: p.orgId,
        realmId: p.realmId,
        data: {
          connectionId: p.connectionId,
          realmId: p.realmId,
          seq: formatSeq(seq),
          purgeId: p.purgeId,
          reason: p.reason,
          counts,
          purgedAt: now().toISOString(),
        },
      });
      await o.outbox.add(em, event);
      await completePurge(em, p, event.id);
      log.info(
        { orgId: p.orgId, realmId: p.realmId, purgeId: p.purgeId, reason: p.reason, counts },
        'company data purged',
      );
      return 'done';
    });

  async function runOne(p: Purge): Promise<boolean> {
    // Under the org's lease: a sync stopped by this purge has written its last rows (its failure) before it
    // released the lease, so they are older than the purge's start and are purged with the rest.
    const started = await underLease(p.orgId, (em) => startPurge(em, p));
    if (started === 'busy') return false;
    if (!started) {
      log.info({ orgId: p.orgId, realmId: p.realmId, purgeId: p.purgeId }, 'purge cancelled: reconnected');
      return false;
    }
    if (started.checkpoints > 0) {
      await tx((em) => addPurgeCounts(em, p.purgeId, { checkpoints: started.checkpoints }));
    }
    let batches = 0;
    for (const step of [() => mirrorStep(p), () => rowsStep(p, started.startedAt)]) {
      for (;;) {
        if (++batches > maxBatches) return false;
        const s = await step();
        if (s === 'busy') return false;
        if (s === 'done') break;
      }
    }
    // The API client writes its log rows in batches a moment after each call (`@qbo/qbo-client`, flushed every
    // second): the purge is announced only once a call of the stopped sync can no longer be in that buffer, and
    // the turn that announces it has deleted what arrived meanwhile.
    if (now().getTime() - started.startedAt.getTime() < API_LOG_SETTLE_MS) return false;
    return (await finalStep(p)) === 'done';
  }

  return {
    async runDue() {
      const due = await tx((em) => claimDuePurges(em, 10, Math.max(30_000, o.leaseTtlMs * 2)));
      const completed: string[] = [];
      for (const p of due) {
        try {
          if (await runOne(p)) completed.push(p.purgeId);
        } catch (err) {
          log.warn({ err, orgId: p.orgId, purgeId: p.purgeId }, 'purge step failed; trying again');
        }
        await tx((em) => releasePurgeClaim(em, p.purgeId));
      }
      return completed;
    },
  };
}
