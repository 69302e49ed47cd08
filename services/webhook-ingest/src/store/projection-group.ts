import { randomUUID } from 'node:crypto';
import { query, type SqlContext } from '@qbo/service-kit';

/**
 * The consumer group of a projection, made by `groupId` with a new generation when the store is new and kept
 * with it; replicas sharing the store share it.
 */
export async function projectionGroup(
  db: SqlContext,
  name: string,
  groupId: (generation: string) => string,
): Promise<string> {
  await query(
    db,
    'insert into projection_group (name, group_id) values ($1, $2) on conflict (name) do nothing',
    [name, groupId(randomUUID())],
  );
  const [row] = await query<{ group_id: string }>(
    db,
    'select group_id from projection_group where name = $1',
    [name],
  );
  if (!row) throw new Error(`projection group ${name} missing after insert`);
  return row.group_id;
}
