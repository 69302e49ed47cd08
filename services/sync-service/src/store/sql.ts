import type { Outbox } from '@qbo/event-bus';
import { CompiledQuery } from 'kysely';

/** MikroORM's entity manager as the outbox takes it (a transaction's, inside `transactional`). */
export type Em = Parameters<Outbox['add']>[0];

/** Raw SQL with bound parameters (`$1`, …) on the entity manager's transaction when it has one. */
export async function query<R>(em: Em, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  const result = await em.getKysely().executeQuery<R>(CompiledQuery.raw(sql, [...params]));
  return [...result.rows];
}

export async function execute(em: Em, sql: string, params: readonly unknown[] = []): Promise<number> {
  const result = await em.getKysely().executeQuery(CompiledQuery.raw(sql, [...params]));
  return Number(result.numAffectedRows ?? 0n);
}
