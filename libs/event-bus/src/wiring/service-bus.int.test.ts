import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createKafka, parseConfig, type ShutdownStep, serviceEnvShape } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase, testBrokers, uniqueName, waitFor } from '@qbo/testkit';
import type { Admin } from 'kafkajs';
import { z } from 'zod';
import { eventBusEnvShape } from '../config.js';
import { exactlyOnce } from '../inbox/inbox.js';
import { testLogger } from '../testing/bus.js';
import { numbered } from '../testing/records.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createServiceBus, type ServiceBus } from './service-bus.js';

describe('a service bus from one call', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let admin: Admin;
  let bus: ServiceBus;
  const steps: ShutdownStep[] = [];
  const handled: string[] = [];
  const prefix = `${uniqueName('sb')}.`;
  const log = testLogger();

  before(async () => {
    db = await createTestDatabase('service-bus');
    orm = await openTestStore(db);
    const config = parseConfig(z.object({ ...serviceEnvShape, ...eventBusEnvShape }), {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_TOPIC_RETENTION_MS: '1000',
    });
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'service-bus-test', log });
    admin = kafka.admin();
    await admin.connect();
    bus = await createServiceBus(
      {
        name: 'test-service',
        schema: testSchema,
        config,
        log,
        orm,
        kafka,
        admin,
        onShutdown: (step) => steps.push(step),
      },
      { inboxPruneEveryMs: 200 },
    );
  });
  after(async () => {
    for (const step of [...steps].sort((a, b) => a.phase - b.phase)) await step.run();
    await admin?.disconnect();
    await orm?.close(true);
    await db?.drop();
  });

  it('relays the outbox to a consumer named by the rule, applies each event once, and prunes its inbox', async () => {
    const outbox = bus.outbox();
    bus.consume('status-view', (inbox) => ({
      RecordUpserted: exactlyOnce(orm, inbox, async (event) => {
        handled.push(event.id);
      }),
    }));
    const event = numbered('org-1', 1);
    await orm.em.fork().transactional((em) => outbox.add(em, event));

    await waitFor(() => handled.includes(event.id), { timeoutMs: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
    assert.ok(groups.includes(`${prefix}test-service.status-view`), groups.join(', '));
    const claimed = await db.query<{ consumer_group: string }>(
      `select consumer_group from ${testSchema}.inbox where event_id = $1`,
      [event.id],
    );
    assert.deepEqual(claimed, [{ consumer_group: 'status-view' }]);

    // Older than twice the topic's retention (1 s): the next prune takes it; a fresh row of the group stays.
    await db.query(
      `update ${testSchema}.inbox set processed_at = now() - interval '1 minute' where event_id = $1`,
      [event.id],
    );
    await db.query(
      `insert into ${testSchema}.inbox (consumer_group, event_id) values ('status-view', gen_random_uuid())`,
    );
    await waitFor(
      async () =>
        (await db.query(`select 1 from ${testSchema}.inbox where event_id = $1`, [event.id])).length === 0,
      { timeoutMs: 10_000 },
    );
    assert.equal((await db.query(`select 1 from ${testSchema}.inbox`)).length, 1);

    assert.deepEqual(
      [...steps].sort((a, b) => a.phase - b.phase).map((s) => s.name),
      ['status-view-consumer', 'inbox-prune', 'outbox-relay'],
    );
  });
});
