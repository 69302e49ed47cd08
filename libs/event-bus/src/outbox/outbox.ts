import { randomUUIDv7 } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type AnyEnvelope,
  type Catalog,
  type CatalogEvent,
  DEFAULT_MAX_MESSAGE_BYTES,
  type EventOf,
  keyFor,
  catalog as platformCatalog,
  type RecordDeleted,
  type RecordUpserted,
  recordStateOf,
  stateKey,
  topics,
  validateForPublish,
} from '@qbo/events';
import { feedHeaders, tombstoneHeaders } from '../feed-headers.js';
import { EventTooLargeError, messageBytes } from '../message-size.js';
import { executeInTransaction, table } from '../sql.js';

export interface OutboxOptions {
  /** The service's schema, where its migrations created the outbox table. */
  schema: string;
  catalog?: Catalog;
  /** Every topic's `max.message.bytes` (`KAFKA_MAX_MESSAGE_BYTES`): a larger event is refused. */
  maxMessageBytes?: number;
}

export interface Outbox {
  /**
   * Writes events in the caller's transaction, so they exist exactly when the state change does. Validates
   * each one and checks its size against its topic's message limit (EventSchemaError, EventTooLargeError
   * before anything is written) and refuses to run outside a transaction. An event of the change log
   * (`qbo.records.v1`) brings its row for the state topic along, right after it: the `RecordState` of an
   * upsert, a tombstone for a delete (snapshot markers have none), so the two topics cannot disagree.
   */
  add(em: EntityManager, events: CatalogEvent | readonly CatalogEvent[]): Promise<void>;
}

interface Row {
  event_id: string;
  topic: string;
  key: string;
  type: string | null;
  version: number | null;
  /** The event's JSON, spliced in as it is; null for a tombstone. */
  payload: string | null;
  traceparent: string | null;
  tracestate: string | null;
  headers: Record<string, string> | null;
}

/** The registry's framing (magic byte and schema id) that the relay may add in front of the JSON. */
const REGISTRY_FRAMING_BYTES = 5;

export function createOutbox({
  schema,
  catalog = platformCatalog,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
}: OutboxOptions): Outbox {
  const outbox = table(schema, 'outbox');
  // One JSON parameter holding every row: cheaper to send than six arrays, whose elements the driver would
  // escape one by one. A function scan yields the rows in array order, so seqs follow the caller's order.
  // A `json` value keeps its text, so the payload is stored as serialised.
  const insert = `insert into ${outbox} (event_id, topic, key, type, version, payload, traceparent, tracestate, headers)
    select event_id, topic, key, type, version, payload, traceparent, tracestate, headers
    from json_to_recordset($1::json) as r(
      event_id uuid, topic text, key text, type text, version int, payload json, traceparent text,
      tracestate text, headers json
    )`;

  function eventRow(event: AnyEnvelope): Row {
    const def = catalog.find(event.type, event.version);
    if (!def) throw new Error(`${event.type} v${event.version} is not in the event catalog`);
    const valid = validateForPublish(def, event) as AnyEnvelope;
    const payload = JSON.stringify(valid);
    const key = keyFor(def.topic, valid);
    const headers = feedHeaders(valid, def.topic) ?? null;
    const bytes =
      messageBytes({
        key,
        value: payload,
        headers: { ...headers, traceparent: valid.traceparent, tracestate: valid.tracestate },
      }) + REGISTRY_FRAMING_BYTES;
    if (bytes > maxMessageBytes) throw new EventTooLargeError(valid.type, def.topic, bytes, maxMessageBytes);
    return {
      event_id: valid.id,
      topic: def.topic,
      key,
      type: valid.type,
      version: valid.version,
      payload,
      traceparent: valid.traceparent ?? null,
      tracestate: valid.tracestate ?? null,
      headers,
    };
  }

  const tombstoneRow = (deleted: EventOf<typeof RecordDeleted>): Row => ({
    event_id: randomUUIDv7(),
    topic: topics.recordsState,
    key: stateKey({ orgId: deleted.orgId, ...deleted.data }),
    type: null,
    version: null,
    payload: null,
    traceparent: null,
    tracestate: null,
    headers: tombstoneHeaders(deleted.data),
  });

  function rowsOf(event: AnyEnvelope): Row[] {
    const log = eventRow(event);
    if (log.topic !== topics.records) return [log];
    if (event.type === 'RecordUpserted') {
      return [log, eventRow(recordStateOf(event as EventOf<typeof RecordUpserted>))];
    }
    if (event.type === 'RecordDeleted') return [log, tombstoneRow(event as EventOf<typeof RecordDeleted>)];
    return [log];
  }

  async function write(em: EntityManager, rows: readonly Row[]) {
    if (rows.length === 0) return;
    // The payloads are JSON already: spliced in, not escaped again as strings.
    const json = `[${rows.map(({ payload, ...meta }) => `${JSON.stringify(meta).slice(0, -1)},"payload":${payload ?? 'null'}}`).join(',')}]`;
    await executeInTransaction(em, 'outbox.add', insert, [json]);
  }

  const list = (input: CatalogEvent | readonly CatalogEvent[]) =>
    (Array.isArray(input) ? input : [input]) as readonly AnyEnvelope[];

  return { add: (em, input) => write(em, list(input).flatMap(rowsOf)) };
}
