import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery } from 'kysely';

/**
 * Where a statement runs: an entity manager, whose open transaction (inside `em.transactional`) it joins, or
 * the pool when there is none. MikroORM's own `em.execute` is not used: it splices the values into the SQL
 * text, and a value in the text reaches logs and spans.
 */
export type SqlContext = Pick<EntityManager, 'getKysely'>;

const run = <R>(em: SqlContext, text: string, params: readonly unknown[]) =>
  em.getKysely().executeQuery<R>(CompiledQuery.raw(text, [...params]));

/** The rows of a statement with `$1, $2, …` placeholders; the values travel as bound parameters. */
export async function query<R>(em: SqlContext, text: string, params: readonly unknown[] = []): Promise<R[]> {
  return [...(await run<R>(em, text, params)).rows];
}

/** How many rows a statement with `$1, $2, …` placeholders changed. */
export async function execute(
  em: SqlContext,
  text: string,
  params: readonly unknown[] = [],
): Promise<number> {
  return Number((await run(em, text, params)).numAffectedRows ?? 0n);
}
