import type { MikroORM } from '@mikro-orm/postgresql';
import { Migration, openDatabase } from '@qbo/service-kit';
import type { TestDatabase } from '@qbo/testkit';
import { eventBusMigrations } from '../migrations.js';
import { testLogger } from './bus.js';

/**
 * A service's own table for the tests' "effects": one row per applied event and group, so a double effect
 * shows. The writer's state change is a row of group `-`.
 */
class Effects extends Migration {
  override up(): void {
    this.addSql(`create table effects (
      id bigint generated always as identity primary key,
      consumer_group text not null,
      event_id uuid not null,
      org_id text not null,
      n int not null
    )`);
  }
}

export const testSchema = 'bus_test';

/** Opens the test database the way a service does: its schema, the event-bus tables appended to its migrations. */
export function openTestStore(db: TestDatabase): Promise<MikroORM> {
  return openDatabase({
    url: db.url,
    schema: testSchema,
    poolMax: 4,
    log: testLogger(),
    migrations: [...eventBusMigrations, { name: 'test-0001-effects', class: Effects }],
  });
}
