import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { toJsonSchema } from '@qbo/events';
import { DecodeError, type Serde } from './serde.js';

export interface RegistrySerdeOptions {
  /** e.g. `http://registry:8081` (Confluent) or `http://apicurio:8080/apis/ccompat/v7`. */
  url: string;
  clientId?: string;
}

/**
 * One subject per topic, event type and version (TopicRecordNameStrategy plus version): several event types
 * share a topic, and a breaking change is a new version, so BACKWARD compatibility guards exactly the
 * additive changes made within a version.
 */
export const subjectOf = (physicalTopic: string, type: string, version: number): string =>
  `${physicalTopic}-${type}-v${version}`;

const MAGIC_BYTE = 0;

/**
 * The Confluent wire format (magic byte 0, big-endian int32 schema id, JSON) through
 * @kafkajs/confluent-schema-registry. A schema is registered on first use of its subject, with BACKWARD
 * compatibility, and its id cached for the life of the process.
 */
export function createRegistrySerde({ url, clientId = 'qbo-event-bus' }: RegistrySerdeOptions): Serde {
  const registry = new SchemaRegistry(
    { host: url, clientId, retry: { retries: 3 } },
    // zod's JSON Schema uses `format` (uuid, date-time) beside an equivalent `pattern`; the patterns validate
    // and the formats, unknown to a bare Ajv, are skipped instead of failing schema compilation.
    { [SchemaType.JSON]: { strict: false, validateFormats: false } },
  );
  const ids = new Map<string, Promise<number>>();

  const schemaId = (subject: string, schema: string): Promise<number> => {
    let id = ids.get(subject);
    if (!id) {
      id = registry
        .register({ type: SchemaType.JSON, schema }, { subject, compatibility: COMPATIBILITY.BACKWARD })
        .then((r) => r.id);
      // A failed registration (registry down) is retried on the next publish, not cached.
      id.catch(() => ids.delete(subject));
      ids.set(subject, id);
    }
    return id;
  };

  return {
    format: 'registry',
    async encode(def, event, physicalTopic) {
      const id = await schemaId(
        subjectOf(physicalTopic, def.type, def.version),
        JSON.stringify(toJsonSchema(def)),
      );
      return registry.encode(id, event);
    },
    async encodeValidated(def, json, physicalTopic) {
      const id = await schemaId(
        subjectOf(physicalTopic, def.type, def.version),
        JSON.stringify(toJsonSchema(def)),
      );
      const header = Buffer.alloc(5);
      header.writeUInt8(MAGIC_BYTE, 0);
      header.writeInt32BE(id, 1);
      return Buffer.concat([header, Buffer.from(json)]);
    },
    async decode(value) {
      if (value.length === 0) throw new DecodeError('empty_message', 'message has no value');
      if (value[0] !== MAGIC_BYTE || value.length < 6) {
        throw new DecodeError(
          'registry_framing_expected',
          'message is not in the schema registry wire format',
        );
      }
      try {
        return await registry.decode(value);
      } catch (err) {
        throw classify(err);
      }
    },
  };
}

function classify(err: unknown): DecodeError {
  const name = err instanceof Error ? err.name : '';
  const status = (err as { status?: unknown } | null)?.status;
  if (name === 'ConfluentSchemaRegistryValidationError') {
    return new DecodeError('registry_schema_violation', 'message does not match its registered schema', {
      cause: err,
    });
  }
  if (err instanceof SyntaxError)
    return new DecodeError('not_json', 'message value is not JSON', { cause: err });
  if (status === 404)
    return new DecodeError('unknown_schema_id', 'message names a schema id the registry does not know', {
      cause: err,
    });
  return new DecodeError('registry_unavailable', 'the schema registry could not be asked', { cause: err });
}
