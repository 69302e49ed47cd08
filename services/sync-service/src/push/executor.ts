import { randomUUID } from 'node:crypto';
import { type BatchItem, isQboError, type QboObject } from '@qbo/qbo-client';
import { entityDecls } from '../domain/entities.js';
import { summarise } from '../domain/failure.js';
import { createSyncMetrics, type SyncMetrics } from '../metrics.js';
import type { Lease } from '../store/lease.js';
import { type PendingPush, pendingPushes, planCall, replanPush } from '../store/push-commands.js';
import { type SyncTarget, wantSync } from '../store/targets.js';
import type { ClaimDeps } from '../sync/ports.js';
import { openSession, type SyncSession } from '../sync/session.js';
import { type CallFailure, failureAction } from './outcome.js';
import { type PushCall, planCalls, planPush, requestIdOf } from './plan.js';
import { createPushResults } from './results.js';

export interface PushDeps extends ClaimDeps {
  leaseTtlMs: number;
  /** How soon commands left pending (no answer from Intuit, or Intuit busy) are tried again. */
  retryDelayMs: number;
  metrics?: SyncMetrics;
}

/** What happened to one command: its write, or why it failed. */
type Result =
  | { ok: true; object: QboObject }
  | { ok: false; failure: CallFailure; current?: QboObject | undefined };

/**
 * Executes an org's write-back commands under the lease the worker holds, in arrival order. Each call is
 * recorded before it is sent, and its answer (mirror, record event, result event, command row) is committed in
 * one fenced transaction; a replica that dies between the two leaves the call to be sent again in the same shape
 * with the same `requestid`, which Intuit answers from its record of the first. Several pending commands go as
 * batches of at most 30, each item's answer mapped back to its command.
 */
export function createPushes(deps: PushDeps) {
  const { orm, log } = deps;
  const metrics = deps.metrics ?? createSyncMetrics();

  const declOf = (entity: string) => entityDecls.find((d) => d.name === entity);
  const { commitSuccess, commitFailure } = createPushResults(deps);
  const callOf = (p: PendingPush): PushCall | undefined => {
    const check = planPush(p, declOf(p.entity));
    return check.ok ? check.call : undefined;
  };

  async function single(
    s: SyncSession,
    p: PendingPush,
    call: PushCall,
    signal: AbortSignal,
  ): Promise<Result> {
    const ctx = {
      orgId: p.orgId,
      correlationId: p.commandId,
      requestId: requestIdOf(p.orgId, p.commandId, p.attempt),
      signal,
    };
    const realm = s.target.realmId;
    const ref = { Id: call.body.Id ?? '', SyncToken: call.body.SyncToken ?? '' };
    try {
      const object =
        call.operation === 'create'
          ? await deps.qbo.create(realm, call.entity, call.body, ctx)
          : call.operation === 'delete'
            ? await deps.qbo.delete(realm, call.entity, ref, ctx)
            : call.operation === 'void'
              ? await deps.qbo.void(realm, call.entity, ref, ctx)
              : await deps.qbo.update(realm, call.entity, { ...call.body, ...ref }, ctx);
      return { ok: true, object };
    } catch (err) {
      if (!isQboError(err) || signal.aborted) throw err;
      return { ok: false, failure: err };
    }
  }

  async function batch(
    s: SyncSession,
    items: readonly { p: PendingPush; call: PushCall; bid: string }[],
    callId: string,
    signal: AbortSignal,
  ): Promise<Map<string, Result>> {
    const request: BatchItem[] = items.map(({ call, bid }) => ({
      bId: bid,
      operation: call.operation === 'deactivate' ? 'update' : call.operation,
      entity: call.entity,
      object: call.body,
    }));
    const orgId = s.target.orgId;
    const answers = await deps.qbo.batch(s.target.realmId, request, {
      orgId,
      correlationId: callId,
      requestId: requestIdOf(orgId, callId, 0),
      signal,
    });
    const byBid = new Map(answers.map((a) => [a.bId, a]));
    return new Map(
      items.map(({ p, bid }): [string, Result] => {
        const a = byBid.get(bid);
        if (a?.ok && 'object' in a) return [p.commandId, { ok: true, object: a.object }];
        const failure = a && !a.ok ? a.error : { category: 'server', code: 'missing', status: 200 };
        return [p.commandId, { ok: false, failure }];
      }),
    );
  }

  /** A conflict hands back what QuickBooks holds now: one read, whose failure leaves only the code. */
  async function current(s: SyncSession, p: PendingPush): Promise<QboObject | undefined> {
    if (!p.entityId) return undefined;
    try {
      return await s.read(p.entity, p.entityId);
    } catch (err) {
      log.warn({ err: summarise(err), commandId: p.commandId }, 'could not read the conflicting record');
      return undefined;
    }
  }

  /** One call (single or batch) and its commit; false when commands stay pending and the rest must wait. */
  async function execute(s: SyncSession, call: PendingPush[], signal: AbortSignal): Promise<boolean> {
    const planned = call.map((p) => ({ p, call: callOf(p) }));
    const unfit = planned.filter((x) => !x.call);
    if (unfit.length > 0) {
      // Checked on arrival; a command that no longer fits (an entity dropped from the code) fails on its own.
      await s.write(async (em) => {
        for (const { p } of unfit) {
          await commitFailure(
            em,
            s,
            p,
            { category: 'validation', code: 'payload_invalid' },
            undefined,
            undefined,
          );
        }
      });
    }
    const items = planned.filter((x): x is { p: PendingPush; call: PushCall } => x.call !== undefined);
    if (items.length === 0) return true;
    const first = items[0] as (typeof items)[number];
    const asBatch = items.length > 1 || first.p.bid !== null;
    const callId = first.p.callId ?? randomUUID();
    const withBids = items.map((x, i) => ({ ...x, bid: x.p.bid ?? `b${i + 1}` }));
    if (first.p.callId === null) {
      await s.write((em) =>
        planCall(
          em,
          callId,
          withBids.map((x) => ({ commandId: x.p.commandId, bid: asBatch ? x.bid : null })),
        ),
      );
    }
    let results: Map<string, Result>;
    try {
      results = asBatch
        ? await batch(s, withBids, callId, signal)
        : new Map([[first.p.commandId, await single(s, first.p, first.call, signal)]]);
    } catch (err) {
      if (!isQboError(err) || signal.aborted) throw err;
      // The whole batch failed: as one command would, it is sent again, or re-planned, or each fails alike.
      results = new Map(items.map(({ p }) => [p.commandId, { ok: false, failure: err }]));
    }
    const replan: string[] = [];
    let stop = false;
    const conflicts = new Map<string, QboObject | undefined>();
    for (const { p } of items) {
      const r = results.get(p.commandId);
      if (!r || r.ok) continue;
      const action = failureAction(r.failure, p.entity).action;
      if (action === 'resend') stop = true;
      if (action === 'replan') replan.push(p.commandId);
      if (action === 'conflict') conflicts.set(p.commandId, await current(s, p));
    }
    await s.write(async (em) => {
      for (const { p, call: c } of items) {
        const r = results.get(p.commandId);
        if (!r) continue;
        if (r.ok) {
          // The requestid the answer came under: the command's own, or its batch's.
          const requestId = asBatch
            ? requestIdOf(p.orgId, callId, 0)
            : requestIdOf(p.orgId, p.commandId, p.attempt);
          await commitSuccess(em, s, p, c, r.object, requestId);
          continue;
        }
        const action = failureAction(r.failure, p.entity);
        if (action.action === 'failed' || action.action === 'conflict') {
          const field = action.action === 'failed' ? action.field : undefined;
          await commitFailure(em, s, p, r.failure, field, conflicts.get(p.commandId));
        }
      }
      if (replan.length > 0) await replanPush(em, replan);
    });
    log.info(
      { orgId: s.target.orgId, callId, commands: items.length, batch: asBatch, replanned: replan.length },
      'push call done',
    );
    return !stop && replan.length === 0;
  }

  /** The calls the pending commands go out in: planned ones as they were planned, new ones cut in order. */
  function callsOf(pending: readonly PendingPush[]): PendingPush[][] {
    const calls: PendingPush[][] = [];
    const byCall = new Map<string, PendingPush[]>();
    let fresh: PendingPush[] = [];
    const flush = () => {
      calls.push(...planCalls(fresh));
      fresh = [];
    };
    for (const p of pending) {
      if (p.callId === null) {
        fresh.push(p);
        continue;
      }
      flush();
      const group = byCall.get(p.callId);
      if (group) group.push(p);
      else {
        const created = [p];
        byCall.set(p.callId, created);
        calls.push(created);
      }
    }
    flush();
    return calls;
  }

  return {
    /** Executes the company's pending commands; what stays pending is tried again after `retryDelayMs`. */
    async run(target: SyncTarget, lease: Lease, signal: AbortSignal): Promise<void> {
      const pending = await pendingPushes(orm.em.fork(), target.orgId, target.realmId);
      if (pending.length === 0) return;
      const s = openSession(
        { ...deps, metrics, signal, mode: 'push' },
        target,
        lease,
        randomUUID(),
        entityDecls,
      );
      const replaced = pending.filter((p) => p.connectionId !== target.connectionId);
      if (replaced.length > 0) {
        await s.write(async (em) => {
          for (const p of replaced) {
            await commitFailure(
              em,
              s,
              p,
              { category: 'not_found', code: 'connection_replaced' },
              undefined,
              undefined,
            );
          }
        });
      }
      let left = false;
      try {
        for (const call of callsOf(pending.filter((p) => p.connectionId === target.connectionId))) {
          if (signal.aborted || !(await execute(s, call, signal))) {
            left = true;
            break;
          }
        }
      } catch (err) {
        left = true;
        log.warn(
          { err: summarise(err), orgId: target.orgId },
          'push stopped; commands kept for the next claim',
        );
      }
      if (left && !signal.aborted) {
        await orm.em
          .fork()
          .transactional((em) => wantSync(em, target.orgId, target.realmId, deps.retryDelayMs, 'push'))
          .catch((err: unknown) =>
            log.warn({ err, orgId: target.orgId }, 'could not ask for the push again'),
          );
      }
    },
  };
}
