import type { MikroORM } from '@mikro-orm/postgresql';
import { type AnyEnvelope, createEventFactory, type EventOf, formatSeq, RecordUpserted } from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { execute, query } from '@qbo/service-kit';
import type { EventHandler } from '../consumer/handlers.js';
import { createInbox, exactlyOnce } from '../inbox/inbox.js';
import type { Outbox } from '../outbox/outbox.js';
import { testSchema } from './store.js';

const make = createEventFactory({ source: 'sync-service' });

/** The n-th change of one org, numbered in its `seq`, so order can be checked at the far end. */
export const numbered = (orgId: string, n: number) =>
  make(RecordUpserted, {
    ...sampleInputs.RecordUpserted,
    orgId,
    data: { ...sampleInputs.RecordUpserted.data, seq: formatSeq(n) },
  });

/** A state change and its event, committed together, as a service writes them. */
export async function writeWithEvent(orm: MikroORM, outbox: Outbox, event: EventOf<typeof RecordUpserted>) {
  await orm.em.fork().transactional(async (em) => {
    await execute(
      em,
      `insert into ${testSchema}.effects (consumer_group, event_id, org_id, n) values ('-', $1, $2, -1)`,
      [event.id, event.orgId],
    );
    await outbox.add(em, event);
  });
}

/** A consumer's effect, applied once per event through the inbox: a row in `effects` with the change's number. */
export function recordEffect(
  orm: MikroORM,
  group: string,
): EventHandler<AnyEnvelope & { data: { seq: string } }> {
  return exactlyOnce(orm, createInbox({ schema: testSchema, group }), async (event, { em }) => {
    await execute(
      em,
      `insert into ${testSchema}.effects (consumer_group, event_id, org_id, n) values ($1, $2, $3, $4)`,
      [group, event.id, event.orgId, Number(event.data.seq)],
    );
  });
}

/** The numbers each org's effects were applied in by one consumer group. */
export async function appliedOrder(orm: MikroORM, group: string): Promise<Map<string, number[]>> {
  const rows = await query<{ org_id: string; n: number }>(
    orm.em.fork(),
    `select org_id, n from ${testSchema}.effects where consumer_group = $1 order by id`,
    [group],
  );
  const byOrg = new Map<string, number[]>();
  for (const r of rows) byOrg.set(r.org_id, [...(byOrg.get(r.org_id) ?? []), r.n]);
  return byOrg;
}
