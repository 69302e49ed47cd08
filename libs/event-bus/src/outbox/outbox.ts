import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type AnyEnvelope,
  type Catalog,
  type CatalogEvent,
  keyFor,
  catalog as platformCatalog,
  validateForPublish,
} from '@qbo/events';
import { executeInTransaction, table } from '../sql.js';

export interface OutboxOptions {
  /** The service's schema, where its migrations created the outbox table. */
  schema: string;
  catalog?: Catalog;
}

export interface Outbox {
  /**
   * Writes events in the caller's transaction, so they exist exactly when the state change does. Validates
   * each one (EventSchemaError before anything is written) and refuses to run outside a transaction.
   */
  add(em: EntityManager, events: CatalogEvent | readonly CatalogEvent[]): Promise<void>;
}

export function createOutbox({ schema, catalog = platformCatalog }: OutboxOptions): Outbox {
  const outbox = table(schema, 'outbox');
  // One JSON parameter holding every row: cheaper to send than six arrays, whose elements the driver would
  // escape one by one. A function scan yields the rows in array order, so seqs follow the caller's order.
  // A `json` value keeps its text, so the payload is stored as serialised.
  const insert = `insert into ${outbox} (event_id, topic, key, type, version, payload, traceparent, tracestate)
    select event_id, topic, key, type, version, payload, traceparent, tracestate
    from json_to_recordset($1::json) as r(
      event_id uuid, topic text, key text, type text, version int, payload json, traceparent text, tracestate text
    )`;

  return {
    async add(em, input) {
      const events = (Array.isArray(input) ? input : [input]) as readonly AnyEnvelope[];
      if (events.length === 0) return;
      const rows = events.map((event) => {
        const def = catalog.find(event.type, event.version);
        if (!def) throw new Error(`${event.type} v${event.version} is not in the event catalog`);
        const valid = validateForPublish(def, event) as AnyEnvelope;
        return { valid, topic: def.topic, key: keyFor(def.topic, valid) };
      });
      const json = JSON.stringify(
        rows.map((r) => ({
          event_id: r.valid.id,
          topic: r.topic,
          key: r.key,
          type: r.valid.type,
          version: r.valid.version,
          payload: r.valid,
          traceparent: r.valid.traceparent ?? null,
          tracestate: r.valid.tracestate ?? null,
        })),
      );
      await executeInTransaction(em, 'outbox.add', insert, [json]);
    },
  };
}
