import type { AnyEnvelope, EventDefinition } from '@qbo/events';

/**
 * Turns validated events into message values and back. `decode` returns the message's JSON as written; the
 * catalog validates and upcasts it afterwards.
 */
export interface Serde {
  readonly format: 'registry' | 'json';
  encode(def: EventDefinition, event: AnyEnvelope, physicalTopic: string): Promise<Buffer>;
  /**
   * Frames an event already validated and serialised (an outbox row), without validating it again: the
   * relay's path, where every row passed the schema when it was written.
   */
  encodeValidated(def: EventDefinition, json: string, physicalTopic: string): Promise<Buffer>;
  decode(value: Buffer): Promise<unknown>;
}

export type DecodeErrorCode =
  | 'empty_message'
  | 'not_json'
  | 'registry_framing_expected'
  | 'registry_framing_unexpected'
  | 'unknown_schema_id'
  | 'registry_schema_violation'
  | 'registry_unavailable';

/** A message value that cannot be read. Only `registry_unavailable` is worth retrying; the rest are poison. */
export class DecodeError extends Error {
  readonly code: DecodeErrorCode;
  readonly retryable: boolean;

  constructor(code: DecodeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DecodeError';
    this.code = code;
    this.retryable = code === 'registry_unavailable';
  }
}

export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DecodeError('not_json', 'message value is not JSON', { cause: err });
  }
}
