import type { Outbox } from '@qbo/event-bus';
import { CompiledQuery } from 'kysely';

/** MikroORM's entity manager as the outbox takes it (a transaction's, inside `transactional`). */
export type Em = Parameters<Outbox['add']>[0];

/**
 * Raw SQL with bound parameters (`$1`, `$2`, …) on the entity manager's transaction when it has one, on the
 * pool otherwise. Values travel as parameters, never spliced into the text.
 */
export async function query<R>(em: Em, sql: string, params: readonly unknown[] = []): Promise<R[]> {
  const result = await em.getKysely().executeQuery<R>(CompiledQuery.raw(sql, [...params]));
  return [...result.rows];
}

export async function execute(em: Em, sql: string, params: readonly unknown[] = []): Promise<number> {
  const result = await em.getKysely().executeQuery(CompiledQuery.raw(sql, [...params]));
  return Number(result.numAffectedRows ?? 0n);
}

/** A timestamptz column as epoch ms (the driver gives a Date). */
export const ms = (value: Date | string | null | undefined): number | null =>
  value === null || value === undefined ? null : new Date(value).getTime();

export const iso = (value: number | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();
