import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the tests use: DATABASE_URL, or the local one this machine runs. */
export const serverUrl = (): string =>
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** A plain query on the test database, for assertions. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/**
 * A fresh database per test suite, named after the suite, dropped (with its connections) afterwards, so
 * suites run in parallel without seeing each other's rows.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `test_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl() });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `Postgres is not reachable at the DATABASE_URL the tests use (${redactUrl(serverUrl())})`,
      {
        cause: err,
      },
    );
  }
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  return {
    name,
    url: url.toString(),
    async query(sql, params) {
      const result = await pool.query(sql, params);
      return result.rows;
    },
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: serverUrl() });
      await client.connect();
      try {
        // Pools closed a moment ago may still be ending their sockets; forcing the drop then would kill those
        // connections and surface as an error in whoever still holds one. A connection still open after
        // the wait is a leak, and the forced drop makes it visible.
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline) {
          const open = await client.query(
            'select count(*)::int as n from pg_stat_activity where datname = $1',
            [name],
          );
          if (open.rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.toString();
}
