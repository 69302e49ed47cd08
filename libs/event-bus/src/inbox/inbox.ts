import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AnyEnvelope } from '@qbo/events';
import { execute } from '@qbo/service-kit';
import type { EventHandler, HandlerContext } from '../consumer/handlers.js';
import { executeInTransaction, table } from '../sql.js';

export interface InboxOptions {
  schema: string;
  /** The consumer group whose effects it records: one group's processing says nothing about another's. */
  group: string;
}

export interface Inbox {
  /**
   * Records the event as processed by this group, in the caller's transaction. False when it already was:
   * the caller then skips the effect (a redelivery).
   */
  claim(em: EntityManager, eventId: string): Promise<boolean>;
  /** Forgets ids older than the given date; keep them longer than any redelivery could arrive (the topic's retention). */
  prune(em: EntityManager, olderThan: Date): Promise<number>;
}

export function createInbox({ schema, group }: InboxOptions): Inbox {
  const inbox = table(schema, 'inbox');
  return {
    async claim(em, eventId) {
      const inserted = await executeInTransaction(
        em,
        'inbox.claim',
        `insert into ${inbox} (consumer_group, event_id) values ($1, $2) on conflict do nothing`,
        [group, eventId],
      );
      return inserted === 1;
    },
    async prune(em, olderThan) {
      return execute(em, `delete from ${inbox} where consumer_group = $1 and processed_at < $2`, [
        group,
        olderThan,
      ]);
    },
  };
}

export type TransactionalHandler<E> = (
  event: E,
  ctx: HandlerContext & { em: EntityManager },
) => Promise<void>;

/**
 * Wraps a handler so its effect happens once per event and group: the inbox row and the effect commit in one
 * transaction, and a redelivered event finds its row and does nothing. Events the handler writes through an
 * outbox with the same `em` commit with them.
 */
export function exactlyOnce<E extends AnyEnvelope>(
  orm: MikroORM,
  inbox: Inbox,
  handler: TransactionalHandler<E>,
): EventHandler<E> {
  return (event, ctx) =>
    orm.em.fork().transactional(async (em) => {
      if (!(await inbox.claim(em, event.id))) return;
      await handler(event, { ...ctx, em });
    });
}
