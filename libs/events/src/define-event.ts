import { z } from 'zod';
import { envelopeShape } from './envelope.js';
import type { TopicName } from './topics.js';

export interface EventSpec<T extends string, V extends number, D extends z.ZodObject> {
  type: T;
  version: V;
  topic: TopicName;
  /** One line for the catalog table: what happened (or what to do), and who writes it. */
  description: string;
  data: D;
}

function envelopeOf<T extends string, V extends number, D extends z.ZodObject>(spec: EventSpec<T, V, D>) {
  return z.object({
    ...envelopeShape,
    type: z.literal(spec.type),
    version: z.literal(spec.version),
    data: spec.data,
  });
}

/**
 * Declares an event once: its TypeScript type (`EventOf<typeof X>`), its zod schema and, through
 * `toJsonSchema`, the JSON Schema registered for it all come from this one declaration.
 */
export function defineEvent<const T extends string, const V extends number, D extends z.ZodObject>(
  spec: EventSpec<T, V, D>,
) {
  return Object.freeze({
    type: spec.type,
    version: spec.version,
    topic: spec.topic,
    description: spec.description,
    data: spec.data,
    schema: envelopeOf(spec),
  });
}

export type EventDefinition<T extends string = string, V extends number = number> = Readonly<{
  type: T;
  version: V;
  topic: TopicName;
  description: string;
  data: z.ZodObject;
  schema: z.ZodObject;
}>;

/** The envelope type of a definition, e.g. `EventOf<typeof ConnectionEstablished>`. */
export type EventOf<D extends EventDefinition> = z.output<D['schema']>;

/** What a producer supplies; the factory fills in id, type, version, source and time. */
export interface EventInput<D extends EventDefinition> {
  orgId: string;
  realmId?: string;
  traceparent?: string;
  tracestate?: string;
  data: z.input<D['data']>;
}

/** JSON Schema (draft-07, as the registry's JSON serde validates with Ajv's default draft) of the whole envelope. */
export const toJsonSchema = (def: EventDefinition): Record<string, unknown> =>
  z.toJSONSchema(def.schema, { target: 'draft-7' }) as Record<string, unknown>;
