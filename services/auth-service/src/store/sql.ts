import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Raw SQL with `?` placeholders on the given entity manager: inside `em.transactional` it runs in that
 * transaction (with the outbox rows), outside it on a pooled connection.
 */
export const query = async <R = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<R[]> => (await em.execute(sql, [...params], 'all')) as R[];
