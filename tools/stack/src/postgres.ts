import pg from 'pg';

/**
 * Makes sure the platform's database exists on the Postgres server. No Postgres means no platform: the stack
 * stops here with the address it tried and how to start one, rather than half-starting services that would
 * crash-loop.
 */
export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (err) {
    const where = new URL(serverUrl);
    throw new Error(
      `Postgres is not reachable at ${where.hostname}:${where.port || 5432} (${(err as Error).message}). ` +
        'Start it (on Debian: pg_ctlcluster <version> main start) or point DATABASE_URL at one.',
    );
  }
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
