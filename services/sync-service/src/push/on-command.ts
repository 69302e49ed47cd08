import type { EventHandler, Outbox } from '@qbo/event-bus';
import { type CatalogEvent, type EventFactory, RecordPushFailed } from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { insertPush, type NewPush, pushTarget } from '../store/push-commands.js';
import type { Em } from '../store/sql.js';
import { wantSync } from '../store/targets.js';
import { admitPush } from './plan.js';

/** Every version of a command: the catalog hands handlers the newest, older ones upcast on reading. */
type Of<T extends CatalogEvent['type']> = Extract<CatalogEvent, { type: T }>;

export interface PushHandlerDeps {
  once: <E extends CatalogEvent>(fn: (event: E, em: Em) => Promise<void>) => EventHandler<E>;
  /** Every entity the service knows: a command may write an entity the company does not sync. */
  entities: readonly EntityDecl[];
  /** How long the worker waits after a command for others of the same org, to send them in one batch. */
  windowMs: number;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
}

/**
 * `UpsertRecord` and `DeleteRecord`: each is kept, in arrival order, for the worker to execute under the org's
 * lease, and brings the company's claim forward by the batching window. A command that cannot succeed is
 * answered at once, with no call: a connection the org does not hold (whoever names it), one paused,
 * deactivated or disconnected, or a payload that does not fit the entity.
 */
export function pushHandlers({ once, entities, windowMs, outbox, events, log }: PushHandlerDeps) {
  const keep = async (
    e: { id: string; orgId: string },
    em: Em,
    p: Omit<NewPush, 'realmId' | 'commandId' | 'orgId'>,
  ) => {
    const target = await pushTarget(em, e.orgId, p.connectionId);
    const cmd: NewPush = { ...p, commandId: e.id, orgId: e.orgId, realmId: target?.realmId ?? null };
    const admitted = admitPush(
      cmd,
      target,
      entities.find((d) => d.name === p.entity),
    );
    const refusal = admitted.ok ? undefined : admitted.refusal;
    if (!refusal) {
      await insertPush(em, cmd);
      await wantSync(em, e.orgId, cmd.realmId as string, windowMs, 'push');
      return;
    }
    const failed = events(RecordPushFailed, {
      orgId: e.orgId,
      ...(target ? { realmId: target.realmId } : {}),
      data: {
        commandId: e.id,
        connectionId: p.connectionId,
        entity: p.entity,
        ...(p.entityId ? { entityId: p.entityId } : {}),
        error: {
          category:
            refusal.code === 'payload_invalid' || refusal.code === 'entity_not_writable'
              ? 'validation'
              : 'not_found',
          code: refusal.code,
          retryable: false,
          entityType: p.entity,
          ...(p.entityId ? { entityId: p.entityId } : {}),
          remediation: refusal.message,
        },
        ...(refusal.field ? { field: refusal.field } : {}),
        failedAt: new Date().toISOString(),
      },
    });
    if (await insertPush(em, cmd, { code: refusal.code, result: failed.data })) {
      await outbox.add(em, failed);
    }
    log.warn({ orgId: e.orgId, commandId: e.id, code: refusal.code }, 'push command refused');
  };
  return {
    UpsertRecord: once<Of<'UpsertRecord'>>(async (e, em) => {
      const d = e.data;
      await keep(e, em, {
        connectionId: d.connectionId,
        kind: 'upsert',
        entity: d.entity,
        entityId: d.entityId ?? null,
        syncToken: d.syncToken ?? null,
        sparse: d.sparse,
        void: false,
        payload: d.payload,
      });
    }),
    DeleteRecord: once<Of<'DeleteRecord'>>(async (e, em) => {
      const d = e.data;
      await keep(e, em, {
        connectionId: d.connectionId,
        kind: 'delete',
        entity: d.entity,
        entityId: d.entityId,
        syncToken: d.syncToken,
        sparse: true,
        void: 'void' in d && d.void === true,
        payload: null,
      });
    }),
  };
}
