import { DecodeError, parseJson, type Serde } from './serde.js';

/**
 * Plain JSON values, for when no registry is configured: the catalog's zod schemas validate on both sides.
 * A registry-framed message (magic byte 0) is refused: this consumer could not check it against its schema.
 */
export function createJsonSerde(): Serde {
  return {
    format: 'json',
    async encode(_def, event) {
      return Buffer.from(JSON.stringify(event));
    },
    async encodeValidated(_def, json) {
      return Buffer.from(json);
    },
    async decode(value) {
      if (value.length === 0) throw new DecodeError('empty_message', 'message has no value');
      if (value[0] === 0) {
        throw new DecodeError(
          'registry_framing_unexpected',
          'message is in the schema registry wire format but no registry is configured',
        );
      }
      return parseJson(value);
    },
  };
}
