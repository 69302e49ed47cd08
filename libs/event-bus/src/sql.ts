import type { EntityManager } from '@mikro-orm/postgresql';
import { execute } from '@qbo/service-kit';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table of the service's schema, quoted; the schema name is checked since it is spliced into SQL. */
export function table(schema: string, name: 'outbox' | 'inbox'): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  return `"${schema}"."${name}"`;
}

/**
 * The kit's `execute` (bound parameters, $1, $2, …), refused outside a transaction: an outbox or inbox row
 * written on its own would not commit with the state it belongs to. How many rows it changed.
 */
export async function executeInTransaction(
  em: EntityManager,
  what: string,
  sql: string,
  params: readonly unknown[],
): Promise<number> {
  if (!em.getTransactionContext())
    throw new Error(`${what} must run inside the transaction that changes the state (em.transactional)`);
  return execute(em, sql, params);
}
