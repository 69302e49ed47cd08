import { Migrator } from '@mikro-orm/migrations';
import { type EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from 'pino';
import { type Check, withSignal } from './readiness.js';

export { Migration } from '@mikro-orm/migrations';
export type { MikroORM } from '@mikro-orm/postgresql';

type MigrationList = NonNullable<NonNullable<Options['migrations']>['migrationsList']>;

export interface DatabaseOptions {
  url: string;
  /** The service's own schema: every table it owns lives there, and only there. */
  schema: string;
  poolMax: number;
  log: Logger;
  migrations: MigrationList;
  // biome-ignore lint/suspicious/noExplicitAny: entity schemas are heterogeneous by nature
  entities?: EntitySchema<any>[];
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the service's MikroORM and brings its schema up to date. Migrations run under a Postgres advisory
 * lock, so replicas starting together apply them once, one after the other.
 */
export async function openDatabase({
  url,
  schema,
  poolMax,
  log,
  migrations,
  entities = [],
}: DatabaseOptions) {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  await migrateSchema(url, schema, migrations, log);
  return MikroORM.init({
    clientUrl: url,
    // Sessions resolve unqualified names in the service's schema, for raw SQL as much as for entities.
    driverOptions: { options: `-c search_path=${schema}` },
    schema,
    entities,
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: poolMax },
    debug: false,
    allowGlobalContext: false,
  });
}

async function migrateSchema(url: string, schema: string, migrationsList: MigrationList, log: Logger) {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(hashtext($1))', [`migrate:${schema}`]);
    await lock.query(`create schema if not exists "${schema}"`);
    const orm = await MikroORM.init({
      clientUrl: url,
      schema,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      pool: { min: 0, max: 1 },
      extensions: [Migrator],
      migrations: {
        migrationsList,
        schema,
        tableName: 'mikro_orm_migrations',
        silent: true,
        snapshot: false,
      },
    });
    try {
      const applied = await orm.migrator.up();
      log.info({ schema, applied: applied.map((m) => m.name) }, 'database migrated');
    } finally {
      await orm.close(true);
    }
  } finally {
    await lock.query('select pg_advisory_unlock(hashtext($1))', [`migrate:${schema}`]).catch(() => undefined);
    await lock.end();
  }
}

export const databaseCheck =
  (orm: MikroORM): Check =>
  async (signal) => {
    await withSignal(signal, orm.em.getConnection().execute('select 1'));
  };
