import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type QueryResult, type Transaction } from 'kysely';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table of the service's schema, quoted; the schema name is checked since it is spliced into SQL. */
export function table(schema: string, name: 'outbox' | 'inbox'): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  return `"${schema}"."${name}"`;
}

/**
 * Runs a statement with bind parameters ($1, $2, …) on the connection of the caller's transaction.
 * `em.execute` would inline the values into the SQL text; a batch of events is better sent as parameters.
 */
export async function executeInTransaction<R>(
  em: EntityManager,
  what: string,
  sql: string,
  params: readonly unknown[],
): Promise<QueryResult<R>> {
  const trx = em.getTransactionContext<Transaction<unknown>>();
  if (!trx)
    throw new Error(`${what} must run inside the transaction that changes the state (em.transactional)`);
  return trx.executeQuery<R>(CompiledQuery.raw(sql, [...params]));
}
