import { randomUUID } from 'node:crypto';
import type { Sql } from './sql.js';

/** The consumer group of a projection, created with its first row; replicas sharing the store share it. */
export async function projectionGroup(sql: Sql, name: string, prefix: string): Promise<string> {
  await sql('insert into projection_group (name, group_id) values (?, ?) on conflict (name) do nothing', [
    name,
    `${prefix}.${name}.${randomUUID()}`,
  ]);
  const [row] = await sql<{ group_id: string }>('select group_id from projection_group where name = ?', [
    name,
  ]);
  if (!row) throw new Error(`projection group ${name} missing after insert`);
  return row.group_id;
}
