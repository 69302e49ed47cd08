import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { Migration, openDatabase } from './database.js';
import { createLogger } from './logger.js';

const log = createLogger({ service: 'test', destination: new Writable({ write: (_c, _e, done) => done() }) });

class CreateWidgets extends Migration {
  override up(): void {
    this.addSql('create table widgets (id serial primary key, name text not null)');
  }
}

class SeedWidget extends Migration {
  override up(): void {
    this.addSql(`insert into widgets (name) values ('first')`);
  }
}

const migrations = [
  { name: '20261125000000_create_widgets', class: CreateWidgets },
  { name: '20261125000001_seed_widget', class: SeedWidget },
];

describe('openDatabase', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('kit-database');
  });
  after(async () => {
    await db.drop();
  });

  it('migrates into the service schema once, even when replicas start together', async () => {
    const open = () => openDatabase({ url: db.url, schema: 'widgets_svc', poolMax: 2, log, migrations });
    const orms = await Promise.all([open(), open(), open()]);
    try {
      const rows = await db.query<{ name: string }>('select name from widgets_svc.widgets');
      assert.deepEqual(rows, [{ name: 'first' }], 'each migration ran exactly once');
      const applied = await db.query<{ name: string }>(
        'select name from widgets_svc.mikro_orm_migrations order by id',
      );
      assert.deepEqual(
        applied.map((r) => r.name),
        migrations.map((m) => m.name),
      );
      const found = await orms[0]?.em.getConnection().execute('select count(*)::int as n from widgets');
      assert.deepEqual(found, [{ n: 1 }], 'the ORM queries its own schema without qualifying names');
    } finally {
      await Promise.all(orms.map((o) => o.close()));
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await assert.rejects(
      openDatabase({ url: db.url, schema: 'x"; drop table y; --', poolMax: 1, log, migrations: [] }),
      /invalid schema name/,
    );
  });
});
