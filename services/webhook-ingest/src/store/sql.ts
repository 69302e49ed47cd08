import type { MikroORM } from '@qbo/service-kit';

/** Raw SQL against the service's schema (`?` placeholders); the hot path needs no entity tracking. */
export type Sql = <R = Record<string, unknown>>(query: string, params?: readonly unknown[]) => Promise<R[]>;

export function createSql(orm: MikroORM): Sql {
  const connection = orm.em.getConnection();
  return async <R>(query: string, params: readonly unknown[] = []) =>
    (await connection.execute(query, [...params], 'all')) as R[];
}

export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
