import { randomUUIDv7 } from 'node:crypto';
import type { EventDefinition, EventInput, EventOf } from './define-event.js';
import { markValidated, validateForPublish } from './validate.js';

export interface EventFactoryOptions {
  /** The writing service, e.g. `token-service`. */
  source: string;
  now?: () => Date;
  newId?: () => string;
}

export type EventFactory = <D extends EventDefinition>(def: D, input: EventInput<D>) => EventOf<D>;

/**
 * Builds complete, validated envelopes: id (UUID v7), time, source, type and version are filled in, and an
 * event that breaks its schema throws EventSchemaError here, before it reaches an outbox or a topic. The
 * event returned is frozen: it stays as validated.
 */
export function createEventFactory({
  source,
  now = () => new Date(),
  newId = randomUUIDv7,
}: EventFactoryOptions): EventFactory {
  return (def, input) =>
    markValidated(
      validateForPublish(def, {
        id: newId(),
        type: def.type,
        version: def.version,
        source,
        time: now().toISOString(),
        orgId: input.orgId,
        ...(input.realmId === undefined ? {} : { realmId: input.realmId }),
        ...(input.traceparent === undefined ? {} : { traceparent: input.traceparent }),
        ...(input.tracestate === undefined ? {} : { tracestate: input.tracestate }),
        data: input.data,
      }),
    );
}
