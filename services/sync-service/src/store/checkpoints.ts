import { execute, query } from '@qbo/service-kit';
import type { Target } from './feed.js';
import type { Em } from './sql.js';

export interface LoadCheckpoint {
  entity: string;
  cursor: number | null;
  done: boolean;
}

export async function startLoadCheckpoints(em: Em, t: Target, entities: readonly string[]): Promise<void> {
  await execute(em, 'delete from load_checkpoint where org_id = $1 and realm_id = $2', [t.orgId, t.realmId]);
  await execute(
    em,
    `insert into load_checkpoint (org_id, realm_id, entity) select $1, $2, unnest($3::text[])`,
    [t.orgId, t.realmId, entities],
  );
}

export async function loadCheckpoints(em: Em, t: Target): Promise<Map<string, LoadCheckpoint>> {
  const rows = await query<{ entity: string; cursor_at: Date | null; done: boolean }>(
    em,
    'select entity, cursor_at, done from load_checkpoint where org_id = $1 and realm_id = $2',
    [t.orgId, t.realmId],
  );
  return new Map(
    rows.map((r) => [
      r.entity,
      { entity: r.entity, cursor: r.cursor_at ? new Date(r.cursor_at).getTime() : null, done: r.done },
    ]),
  );
}

export async function saveLoadCheckpoint(em: Em, t: Target, c: LoadCheckpoint): Promise<void> {
  await execute(
    em,
    `update load_checkpoint set cursor_at = $4, done = $5 where org_id = $1 and realm_id = $2 and entity = $3`,
    [t.orgId, t.realmId, c.entity, c.cursor === null ? null : new Date(c.cursor).toISOString(), c.done],
  );
}
