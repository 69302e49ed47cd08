import type { Outbox } from '@qbo/event-bus';
import { type EventFactory, RecordPushed, RecordPushFailed } from '@qbo/events';
import type { QboObject } from '@qbo/qbo-client';
import { query } from '@qbo/service-kit';
import { entityDecls } from '../domain/entities.js';
import type { FailureCategory } from '../domain/failure.js';
import { applyRecords } from '../store/mirror.js';
import { finishPush, type PendingPush } from '../store/push-commands.js';
import type { Em } from '../store/sql.js';
import type { SyncSession } from '../sync/session.js';
import type { CallFailure } from './outcome.js';
import type { PushCall } from './plan.js';

const APPLIED = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  void: 'voided',
  deactivate: 'deactivated',
} as const;

const REMEDIATION = {
  conflict:
    'The record changed in QuickBooks since the caller read it: merge the change into currentRecord and send a new command with currentSyncToken.',
  validation: 'QuickBooks refused the payload: correct the field named and send a new command.',
  other: 'QuickBooks refused the command; see the code.',
};

/**
 * A command's outcome, written in the caller's fenced transaction: for a success, Intuit's answer applied to the
 * mirror (its record event with it), `RecordPushed` naming what was applied and the record event's `seq`; for a
 * failure, `RecordPushFailed` with the conflicting record or the failing field. The command's row keeps the
 * event's data.
 */
export function createPushResults(deps: { outbox: Outbox; events: EventFactory }) {
  const declOf = (entity: string) => entityDecls.find((d) => d.name === entity);

  async function commitSuccess(
    em: Em,
    s: SyncSession,
    p: PendingPush,
    call: PushCall,
    object: QboObject,
    requestId: string,
  ) {
    const decl = declOf(call.entity);
    if (!decl) throw new Error(`no declaration for ${call.entity}`);
    const entityId = String(object.Id ?? p.entityId ?? '');
    const counts = await applyRecords(em, s.feed, {
      target: s.target,
      decl,
      rows: [object],
      origin: 'push',
      runId: p.commandId,
      ...(call.operation === 'void' ? { hints: new Map([[entityId, { voided: true }]]) } : {}),
    });
    const changed = counts.upserted + counts.deleted > 0;
    const [row] = changed
      ? await query<{ seq: string }>(
          em,
          `select lpad(seq::text, 20, '0') as seq from mirror_record
           where org_id = $1 and realm_id = $2 and entity = $3 and entity_id = $4`,
          [s.target.orgId, s.target.realmId, decl.name, entityId],
        )
      : [];
    const syncToken = typeof object.SyncToken === 'string' ? object.SyncToken : undefined;
    const event = deps.events(RecordPushed, {
      orgId: s.target.orgId,
      realmId: s.target.realmId,
      data: {
        commandId: p.commandId,
        connectionId: s.target.connectionId,
        entity: decl.name,
        entityId,
        operation: p.kind === 'delete' ? 'delete' : p.entityId === null ? 'create' : 'update',
        applied: APPLIED[call.operation],
        ...(row ? { seq: row.seq } : {}),
        ...(syncToken ? { syncToken } : {}),
        requestId,
        pushedAt: new Date().toISOString(),
      },
    });
    await deps.outbox.add(em, event);
    await finishPush(em, p.commandId, {
      status: 'pushed',
      applied: APPLIED[call.operation],
      result: event.data,
    });
  }

  async function commitFailure(
    em: Em,
    s: SyncSession,
    p: PendingPush,
    failure: CallFailure,
    field: string | undefined,
    now: QboObject | undefined,
  ) {
    const conflict = failure.code === '5010' || failure.category === 'conflict';
    const category = (conflict ? 'conflict' : failure.category) as FailureCategory;
    const currentSyncToken = typeof now?.SyncToken === 'string' ? now.SyncToken : undefined;
    const event = deps.events(RecordPushFailed, {
      orgId: s.target.orgId,
      realmId: s.target.realmId,
      data: {
        commandId: p.commandId,
        // The connection the command named: a command for a replaced connection fails under its own.
        connectionId: p.connectionId,
        entity: p.entity,
        ...(p.entityId ? { entityId: p.entityId } : {}),
        error: {
          category,
          code: failure.code,
          retryable: false,
          entityType: p.entity,
          ...(p.entityId ? { entityId: p.entityId } : {}),
          remediation: conflict
            ? REMEDIATION.conflict
            : category === 'validation'
              ? REMEDIATION.validation
              : REMEDIATION.other,
        },
        ...(currentSyncToken ? { currentSyncToken } : {}),
        ...(now ? { currentRecord: now } : {}),
        ...(field ? { field } : {}),
        failedAt: new Date().toISOString(),
      },
    });
    await deps.outbox.add(em, event);
    await finishPush(em, p.commandId, { status: 'failed', code: failure.code, result: event.data });
  }

  return { commitSuccess, commitFailure };
}
