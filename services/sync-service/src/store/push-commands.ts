import { execute, query } from '@qbo/service-kit';
import type { PushCommand } from '../push/plan.js';
import type { Em } from './sql.js';

/** The company a command's org holds the named connection for, and whether it may be written to now. */
export interface PushTarget {
  realmId: string;
  status: string;
  paused: boolean;
}

/** The org's company behind a connection; undefined when the org holds no such connection. */
export async function pushTarget(
  em: Em,
  orgId: string,
  connectionId: string,
): Promise<PushTarget | undefined> {
  const [row] = await query<{ realm_id: string; status: string; paused: boolean }>(
    em,
    `select realm_id, status, paused_at is not null as paused from sync_target
     where org_id = $1 and connection_id = $2::uuid`,
    [orgId, connectionId],
  );
  return row ? { realmId: row.realm_id, status: row.status, paused: row.paused } : undefined;
}

export interface NewPush extends PushCommand {
  realmId: string | null;
  connectionId: string;
}

/**
 * Keeps a command for the worker (`pending`), or with its outcome when it was refused before any call. The
 * same command again changes nothing; resolves with whether it was new.
 */
export async function insertPush(
  em: Em,
  p: NewPush,
  refused?: { code: string; result: Record<string, unknown> },
): Promise<boolean> {
  const n = await execute(
    em,
    `insert into sync_push (command_id, org_id, realm_id, connection_id, kind, entity, entity_id, sync_token,
       sparse, void, payload, status, code, result, done_at)
     values ($1::uuid, $2, $3, $4::uuid, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14::jsonb,
       case when $12 = 'pending' then null else now() end)
     on conflict (command_id) do nothing`,
    [
      p.commandId,
      p.orgId,
      p.realmId,
      p.connectionId,
      p.kind,
      p.entity,
      p.entityId,
      p.syncToken,
      p.sparse,
      p.void,
      p.payload === null ? null : JSON.stringify(p.payload),
      refused ? 'failed' : 'pending',
      refused?.code ?? null,
      refused ? JSON.stringify(refused.result) : null,
    ],
  );
  return n === 1;
}

/** A pending command as the worker reads it, with the call it was planned into, if any. */
export interface PendingPush extends PushCommand {
  connectionId: string;
  attempt: number;
  callId: string | null;
  bid: string | null;
}

interface PendingRow {
  command_id: string;
  org_id: string;
  connection_id: string;
  kind: 'upsert' | 'delete';
  entity: string;
  entity_id: string | null;
  sync_token: string | null;
  sparse: boolean;
  void: boolean;
  payload: Record<string, unknown> | null;
  attempt: number;
  call_id: string | null;
  bid: string | null;
}

/** The company's pending commands in arrival order. */
export async function pendingPushes(em: Em, orgId: string, realmId: string): Promise<PendingPush[]> {
  const rows = await query<PendingRow>(
    em,
    `select command_id::text, org_id, connection_id::text, kind, entity, entity_id, sync_token, sparse, void,
       payload, attempt, call_id::text, bid
     from sync_push where org_id = $1 and realm_id = $2 and status = 'pending' order by position`,
    [orgId, realmId],
  );
  return rows.map((r) => ({
    commandId: r.command_id,
    orgId: r.org_id,
    connectionId: r.connection_id,
    kind: r.kind,
    entity: r.entity,
    entityId: r.entity_id,
    syncToken: r.sync_token,
    sparse: r.sparse,
    void: r.void,
    payload: r.payload,
    attempt: r.attempt,
    callId: r.call_id,
    bid: r.bid,
  }));
}

/** Records the call a command goes out in, before it is sent. */
export async function planCall(
  em: Em,
  callId: string,
  items: readonly { commandId: string; bid: string | null }[],
): Promise<void> {
  await execute(
    em,
    `update sync_push p set call_id = $1::uuid, bid = i.bid
     from jsonb_to_recordset($2::jsonb) as i(command_id uuid, bid text)
     where p.command_id = i.command_id and p.status = 'pending'`,
    [callId, JSON.stringify(items.map((i) => ({ command_id: i.commandId, bid: i.bid })))],
  );
}

/** Forgets a command's call, which Intuit answered without applying it: the next attempt gets a new requestid. */
export async function replanPush(em: Em, commandIds: readonly string[]): Promise<void> {
  await execute(
    em,
    `update sync_push set call_id = null, bid = null, attempt = attempt + 1
     where command_id = any($1::uuid[]) and status = 'pending'`,
    [commandIds],
  );
}

/** Records a command's outcome, with the event data that announced it. */
export async function finishPush(
  em: Em,
  commandId: string,
  outcome: { status: 'pushed' | 'failed'; applied?: string; code?: string; result: Record<string, unknown> },
): Promise<void> {
  await execute(
    em,
    `update sync_push set status = $2, applied = $3, code = $4, result = $5::jsonb, done_at = now()
     where command_id = $1::uuid and status = 'pending'`,
    [
      commandId,
      outcome.status,
      outcome.applied ?? null,
      outcome.code ?? null,
      JSON.stringify(outcome.result),
    ],
  );
}

/** A command as the API shows it. */
export interface PushRecord {
  command_id: string;
  org_id: string;
  realm_id: string | null;
  connection_id: string;
  kind: string;
  entity: string;
  entity_id: string | null;
  status: string;
  applied: string | null;
  code: string | null;
  result: Record<string, unknown> | null;
  received_at: Date;
  done_at: Date | null;
}

/** Commands newest first, of one org (or every org for an operator: `scope` null). */
export async function listPushes(
  em: Em,
  f: { scope: string | null; connectionId?: string | undefined; status?: string | undefined; limit: number },
): Promise<PushRecord[]> {
  return query<PushRecord>(
    em,
    `select command_id::text, org_id, realm_id, connection_id::text, kind, entity, entity_id, status, applied,
       code, result, received_at, done_at
     from sync_push where ($1::text is null or org_id = $1) and ($2::uuid is null or connection_id = $2::uuid)
       and ($3::text is null or status = $3)
     order by received_at desc, position desc limit $4`,
    [f.scope, f.connectionId ?? null, f.status ?? null, f.limit],
  );
}

export async function getPush(
  em: Em,
  scope: string | null,
  commandId: string,
): Promise<PushRecord | undefined> {
  const rows = await query<PushRecord>(
    em,
    `select command_id::text, org_id, realm_id, connection_id::text, kind, entity, entity_id, status, applied,
       code, result, received_at, done_at
     from sync_push where command_id = $1::uuid and ($2::text is null or org_id = $2)`,
    [commandId, scope],
  );
  return rows[0];
}
