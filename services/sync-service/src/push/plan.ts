import { createHash } from 'node:crypto';
import { MAX_BATCH_ITEMS } from '@qbo/qbo-client';
import type { EntityDecl } from '../domain/entities.js';

/** A write-back command as kept until it is executed. */
export interface PushCommand {
  commandId: string;
  orgId: string;
  kind: 'upsert' | 'delete';
  entity: string;
  entityId: string | null;
  syncToken: string | null;
  sparse: boolean;
  void: boolean;
  payload: Record<string, unknown> | null;
}

/** What QuickBooks is asked to do for a command, and what the result will say happened. */
export type PushOperation = 'create' | 'update' | 'delete' | 'void' | 'deactivate';

export interface PushCall {
  operation: PushOperation;
  entity: string;
  /** The object sent: the payload, with `Id`/`SyncToken` for an update, only those for a delete or void. */
  body: Record<string, unknown> & { Id?: string; SyncToken?: string };
}

export interface PushRefusal {
  code: string;
  /** The field at fault, in the command's terms (`payload.Foo`, `syncToken`, `entity`). */
  field?: string;
  message: string;
}

export type PushCheck = { ok: true; call: PushCall } | { ok: false; refusal: PushRefusal };

/** Transactions Intuit can void (qbo-api-facts §4.3); the others are deleted. */
export const VOIDABLE = new Set(['Invoice', 'Payment', 'SalesReceipt', 'BillPayment']);

/** Entities Intuit refuses to write through the API (the simulator's and Intuit's `500 Unsupported Operation`). */
const READ_ONLY = new Set(['TaxCode']);

/** Fields QuickBooks owns: a payload that sets them would be refused by Intuit, or silently ignored. */
const OWNED_FIELDS = new Set(['Id', 'SyncToken', 'MetaData', 'sparse', 'domain', 'status']);

/** QuickBooks field names are PascalCase (`DisplayName`, `CustomerRef`); anything else cannot be one. */
const FIELD_NAME = /^[A-Z][A-Za-z0-9]{0,63}$/;

const refuse = (code: string, message: string, field?: string): PushCheck => ({
  ok: false,
  refusal: { code, message, ...(field === undefined ? {} : { field }) },
});

/**
 * Checks a command against its entity before any call, and decides the call: create, sparse or full update,
 * and for a delete what the entity allows (a name-list record is made inactive, a transaction deleted, or voided
 * when asked and the entity can be voided).
 */
export function planPush(cmd: PushCommand, decl: EntityDecl | undefined): PushCheck {
  if (!decl || READ_ONLY.has(cmd.entity)) {
    return refuse('entity_not_writable', `${cmd.entity} is not an entity this service writes`, 'entity');
  }
  if (cmd.kind === 'delete') {
    const ref = { Id: cmd.entityId ?? '', SyncToken: cmd.syncToken ?? '' };
    if (decl.kind === 'name_list') {
      if (cmd.void) return refuse('payload_invalid', `${cmd.entity} cannot be voided`, 'void');
      return {
        ok: true,
        call: { operation: 'deactivate', entity: decl.name, body: { ...ref, Active: false } },
      };
    }
    if (cmd.void && !VOIDABLE.has(decl.name)) {
      return refuse('payload_invalid', `${cmd.entity} cannot be voided; delete it instead`, 'void');
    }
    return { ok: true, call: { operation: cmd.void ? 'void' : 'delete', entity: decl.name, body: ref } };
  }
  const payload = cmd.payload ?? {};
  for (const key of Object.keys(payload)) {
    if (OWNED_FIELDS.has(key)) {
      return refuse('payload_invalid', `${key} is set by QuickBooks, not by a command`, `payload.${key}`);
    }
    if (!FIELD_NAME.test(key)) {
      return refuse('payload_invalid', `${key} is not a QuickBooks field name`, `payload.${key}`);
    }
  }
  if (cmd.entityId === null) {
    if (cmd.syncToken !== null) {
      return refuse('payload_invalid', 'a create takes no syncToken', 'syncToken');
    }
    if (Object.keys(payload).length === 0) {
      return refuse('payload_invalid', 'a create needs the fields of the record', 'payload');
    }
    if (decl.kind === 'name_list' && payload.Active === false) {
      return refuse('payload_invalid', 'a record is not created inactive', 'payload.Active');
    }
    return { ok: true, call: { operation: 'create', entity: decl.name, body: { ...payload } } };
  }
  if (cmd.syncToken === null) {
    return refuse('payload_invalid', 'an update needs the SyncToken the caller last saw', 'syncToken');
  }
  return {
    ok: true,
    call: {
      operation: 'update',
      entity: decl.name,
      body: { ...payload, Id: cmd.entityId, SyncToken: cmd.syncToken, sparse: cmd.sparse },
    },
  };
}

/**
 * Intuit's `requestid` for a call: derived from the org and the command (or the planned batch) and the attempt,
 * so a call sent again after a lost answer is replayed by Intuit, while another org that happens to reuse the id
 * on the same company never gets this org's answer. 32 hex characters: under both limits (50, and 36 for batch).
 */
export function requestIdOf(orgId: string, id: string, attempt: number): string {
  return createHash('sha256').update(`${orgId}\n${id}\n${attempt}`).digest('hex').slice(0, 32);
}

/**
 * Cuts an org's pending commands, in order, into calls of at most `max` items. Intuit does not promise the order
 * of a batch's items, so a command on a record already in the call starts the next call: two writes of one
 * record never share a batch, and each runs after the ones before it.
 */
export function planCalls<T extends { entity: string; entityId: string | null }>(
  pending: readonly T[],
  max = MAX_BATCH_ITEMS,
): T[][] {
  const calls: T[][] = [];
  let current: T[] = [];
  let records = new Set<string>();
  for (const cmd of pending) {
    const key = cmd.entityId === null ? undefined : `${cmd.entity}:${cmd.entityId}`;
    if (current.length >= max || (key !== undefined && records.has(key))) {
      calls.push(current);
      current = [];
      records = new Set();
    }
    current.push(cmd);
    if (key !== undefined) records.add(key);
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** The company behind a command's connection, as its org holds it; undefined when the org holds no such one. */
export interface PushTargetState {
  status: string;
  paused: boolean;
}

const STOPPED: Record<string, string> = {
  deactivated: 'connection_deactivated',
  disconnected: 'connection_disconnected',
  erased: 'connection_erased',
};

/**
 * Whether a command may wait for the worker, or is answered at once with no call: a connection its org does not
 * hold (whichever org it belongs to), a company paused, deactivated or disconnected, or a command that does not
 * fit its entity.
 */
export function admitPush(
  cmd: PushCommand,
  target: PushTargetState | undefined,
  decl: EntityDecl | undefined,
): { ok: true } | { ok: false; refusal: PushRefusal } {
  if (!target)
    return {
      ok: false,
      refusal: { code: 'connection_not_found', message: 'the org holds no such connection' },
    };
  // Only an active company is written to; a status added later is refused until it is named here.
  const stopped = target.status === 'active' ? undefined : (STOPPED[target.status] ?? 'connection_inactive');
  if (stopped)
    return { ok: false, refusal: { code: stopped, message: `the connection is ${target.status}` } };
  if (target.paused)
    return { ok: false, refusal: { code: 'connection_paused', message: 'the company is paused' } };
  const check = planPush(cmd, decl);
  return check.ok ? { ok: true } : { ok: false, refusal: check.refusal };
}
