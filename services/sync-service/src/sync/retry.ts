import { randomUUID } from 'node:crypto';
import { RunErrorsRetried, SyncErrorRetried } from '@qbo/events';
import { isQboError, type QboObject } from '@qbo/qbo-client';
import { execute, query } from '@qbo/service-kit';
import { declsFor, type EntityDecl } from '../domain/entities.js';
import { callIdOf, type FailureSummary, recordFailure, summarise } from '../domain/failure.js';
import { lastUpdatedOf } from '../domain/qbo-time.js';
import type { SyncMetrics } from '../metrics.js';
import type { Lease } from '../store/lease.js';
import { applyRecords, mirrorStates } from '../store/mirror.js';
import type { Em } from '../store/sql.js';
import type { SyncTarget } from '../store/targets.js';
import type { ClaimDeps } from './ports.js';
import { where } from './query-window.js';
import { openSession, type SyncSession } from './session.js';

export interface RetryDeps extends ClaimDeps {
  leaseTtlMs: number;
  /** A record retried less than this ago is answered from its row, without a call. */
  retryIntervalMs: number;
  metrics: SyncMetrics;
}

interface PendingRetry {
  command_id: string;
  error_id: string | null;
  run_id: string | null;
}

interface ErrorRow {
  error_id: string;
  entity: string;
  entity_id: string | null;
  range_from: Date | null;
  range_to: Date | null;
  position: number | null;
  after_id: string | null;
  resolved: boolean;
  retried_recently: boolean;
  category: string;
  code: string;
  retryable: boolean;
  remediation: string | null;
}

type Outcome = 'resolved' | 'failed' | 'already_resolved' | 'not_found' | 'moved';

interface RetryResult {
  outcome: Outcome;
  apiCalls: number;
  entityId?: string;
  error?: FailureSummary;
}

const ROW = `error_id::text, entity, entity_id, range_from, range_to, position, after_id,
  resolved_at is not null as resolved, coalesce(retried_at > now() - make_interval(secs => $4), false)
  as retried_recently, category, code, retryable, remediation`;

/**
 * Does the retries asked for by command (`sync_retry`), under the org's lease the worker holds: each failed
 * record is read again with one call (by its Id, or by its place when Intuit never showed its Id), and what
 * comes back is applied as any read is, its event included, the row closed and the outcome published, in one
 * fenced transaction per record.
 */
export function createRetries(deps: RetryDeps) {
  const { orm, log } = deps;

  async function retryRecord(s: SyncSession, commandId: string, row: ErrorRow): Promise<RetryResult> {
    if (row.resolved) return { outcome: 'already_resolved', apiCalls: 0 };
    // Retried moments ago and still failing: the answer stands, and a burst of commands (a client's retry loop,
    // a replayed topic) spends none of the company's Intuit budget.
    if (row.retried_recently) {
      return {
        outcome: 'failed',
        apiCalls: 0,
        error: {
          category: row.category as FailureSummary['category'],
          code: row.code,
          retryable: row.retryable,
          ...(row.remediation ? { remediation: row.remediation } : {}),
        },
      };
    }
    const decl = s.decls.find((d) => d.name === row.entity);
    if (!decl) return { outcome: 'not_found', apiCalls: 0 };
    const callId = randomUUID();
    let record: QboObject | undefined;
    try {
      record = await readAgain(s, decl, row, callId);
    } catch (err) {
      // Only Intuit's answer is the retry's outcome; an abort or a lost lease ends the command, kept pending.
      if (!isQboError(err)) throw err;
      const failure = summarise(err);
      const known = recordFailure(failure.code);
      await s.write((em) =>
        execute(
          em,
          `update sync_error set attempts = attempts + 1, last_seen_at = now(), code = $2, category = $3,
             retryable = $4, remediation = $5, api_call_id = coalesce($6::uuid, api_call_id), retried_at = now()
           where error_id = $1::uuid`,
          [
            row.error_id,
            failure.code,
            failure.category,
            known.retryable,
            known.remediation,
            callIdOf(err) ?? null,
          ],
        ),
      );
      return {
        outcome: 'failed',
        apiCalls: 1,
        error: { ...failure, retryable: known.retryable, remediation: known.remediation },
      };
    }
    if (!record || (row.entity_id === null && (await readBefore(s, decl, record)))) {
      // The place no longer holds the record: it changed since (that is what moved it), so the delta reads it
      // where its change put it, and a new row opens there if it still fails. This one is closed as moved.
      await s.write((em) =>
        execute(
          em,
          `update sync_error set retried_at = now(), api_call_id = $2::uuid, resolved_at = now(),
             resolved_by = 'moved', resolved_run_id = $3::uuid
           where error_id = $1::uuid`,
          [row.error_id, callId, commandId],
        ),
      );
      return { outcome: 'moved', apiCalls: 1 };
    }
    const entityId = String(record.Id);
    await s.write(async (em) => {
      await execute(
        em,
        `update sync_error set resolved_at = now(), resolved_by = 'retry', resolved_run_id = $2::uuid,
           entity_id = coalesce(entity_id, $3), api_call_id = $4::uuid, retried_at = now()
         where error_id = $1::uuid`,
        [row.error_id, commandId, entityId, callId],
      );
      const c = await applyRecords(em, s.feed, {
        target: s.target,
        decl,
        rows: [record],
        origin: 'query',
        runId: commandId,
      });
      await s.progress(em, { ...c, pages: 1, entity: decl.name });
    });
    return { outcome: 'resolved', apiCalls: 1, entityId };
  }

  async function publish(
    em: Em,
    target: SyncTarget,
    commandId: string,
    errorId: string,
    row: ErrorRow | undefined,
    r: RetryResult,
  ) {
    const entityId = r.entityId ?? row?.entity_id ?? undefined;
    await deps.outbox.add(
      em,
      deps.events(SyncErrorRetried, {
        orgId: target.orgId,
        realmId: target.realmId,
        data: {
          commandId,
          connectionId: target.connectionId,
          errorId,
          outcome: r.outcome,
          ...(row ? { entity: row.entity } : {}),
          ...(entityId ? { entityId } : {}),
          apiCalls: r.apiCalls,
          ...(r.error ? { error: r.error } : {}),
          retriedAt: new Date().toISOString(),
        },
      }),
    );
  }

  const done = (em: Em, commandId: string) =>
    execute(em, 'update sync_retry set done_at = now() where command_id = $1::uuid', [commandId]);

  async function one(
    s: SyncSession,
    target: SyncTarget,
    commandId: string,
    errorId: string,
  ): Promise<RetryResult> {
    const [row] = await s.write((em) =>
      query<ErrorRow>(
        em,
        `select ${ROW} from sync_error where error_id = $1::uuid and org_id = $2 and realm_id = $3 and kind = 'record'`,
        [errorId, target.orgId, target.realmId, deps.retryIntervalMs / 1000],
      ),
    );
    const result = row
      ? await retryRecord(s, commandId, row)
      : { outcome: 'not_found' as const, apiCalls: 0 };
    await s.write((em) => publish(em, target, commandId, errorId, row, result));
    return result;
  }

  async function command(
    target: SyncTarget,
    lease: Lease,
    signal: AbortSignal,
    p: PendingRetry,
  ): Promise<void> {
    const s = openSession(
      { ...deps, signal, mode: 'retry' },
      target,
      lease,
      p.command_id,
      declsFor(target.entities),
    );
    if (p.error_id) {
      const r = await one(s, target, p.command_id, p.error_id);
      await s.write(async (em) => {
        await s.flushEntityCalls(em);
        await done(em, p.command_id);
      });
      log.info({ commandId: p.command_id, errorId: p.error_id, outcome: r.outcome }, 'sync error retried');
      return;
    }
    const runId = p.run_id as string;
    const ids = await s.write((em) =>
      query<{ error_id: string }>(
        em,
        `select error_id::text from sync_error
         where org_id = $1 and realm_id = $2 and (first_run_id = $3::uuid or last_run_id = $3::uuid)
           and kind = 'record' and resolved_at is null and retryable
         order by first_seen_at, error_id`,
        [target.orgId, target.realmId, runId],
      ),
    );
    const totals = { retried: 0, resolved: 0, failed: 0, apiCalls: 0 };
    for (const { error_id } of ids) {
      const r = await one(s, target, p.command_id, error_id);
      totals.retried++;
      totals.apiCalls += r.apiCalls;
      if (r.outcome === 'resolved' || r.outcome === 'already_resolved') totals.resolved++;
      else totals.failed++;
    }
    await s.write(async (em) => {
      await s.flushEntityCalls(em);
      await deps.outbox.add(
        em,
        deps.events(RunErrorsRetried, {
          orgId: target.orgId,
          realmId: target.realmId,
          data: {
            commandId: p.command_id,
            connectionId: target.connectionId,
            syncRunId: runId,
            ...totals,
            retriedAt: new Date().toISOString(),
          },
        }),
      );
      await done(em, p.command_id);
    });
    log.info({ commandId: p.command_id, runId, ...totals }, 'sync run errors retried');
  }

  return {
    /** The company's pending retries, oldest first; one that fails stays pending for the next claim. */
    async run(target: SyncTarget, lease: Lease, signal: AbortSignal): Promise<void> {
      const pending = await query<PendingRetry>(
        orm.em.fork(),
        `select command_id::text, error_id::text, run_id::text from sync_retry
         where org_id = $1 and realm_id = $2 and done_at is null order by requested_at, command_id`,
        [target.orgId, target.realmId],
      );
      for (const p of pending) {
        if (signal.aborted) return;
        try {
          await command(target, lease, signal, p);
        } catch (err) {
          log.warn(
            { err: summarise(err), commandId: p.command_id },
            'sync retry failed; kept for the next run',
          );
          return;
        }
      }
    },
  };
}

/**
 * Whether the mirror already holds this version of the record: then it is not the one that failed (that one's
 * version was never read), and the failed one left its place.
 */
async function readBefore(s: SyncSession, decl: EntityDecl, record: QboObject): Promise<boolean> {
  const states = await s.write((em) => mirrorStates(em, s.target, decl.name, [String(record.Id)]));
  const held = states.get(String(record.Id));
  return (
    held !== undefined &&
    !held.deleted &&
    held.syncToken === (record.SyncToken ?? null) &&
    held.lastUpdated === (lastUpdatedOf(record) ?? null)
  );
}

/**
 * One call: the record by its Id, or, for a record known by its place (a second's records ordered by Id), that
 * place again with the record before it, which must still be the one seen before it; otherwise the records
 * of that second changed and the one sought moved with its change.
 */
async function readAgain(
  s: SyncSession,
  decl: EntityDecl,
  row: ErrorRow,
  callId: string,
): Promise<QboObject | undefined> {
  if (row.entity_id) return s.read(decl.name, row.entity_id, { callId });
  const position = row.position ?? 1;
  const withBefore = position > 1 && row.after_id !== null;
  const page = await s.query(
    {
      entity: decl.name,
      where: where(
        decl,
        new Date(row.range_from as Date).getTime(),
        new Date(row.range_to as Date).getTime(),
      ),
      orderBy: { field: 'Id', direction: 'ASC' },
      startPosition: withBefore ? position - 1 : position,
      maxResults: withBefore ? 2 : 1,
    },
    { callId },
  );
  if (withBefore && String(page.rows[0]?.Id) !== row.after_id) return undefined;
  return page.rows[withBefore ? 1 : 0];
}
