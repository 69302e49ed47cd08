import { randomUUIDv7 } from 'node:crypto';
import type { EventOf } from './define-event.js';
import type { RecordState, RecordUpserted } from './events/records.js';

/** Digits of a feed sequence number: 20 holds any unsigned 64-bit value. */
export const SEQ_DIGITS = 20;
const SEQ_MAX = 10n ** BigInt(SEQ_DIGITS) - 1n;
const SEQ_PATTERN = /^\d{20}$/;

/** A sequence number as the feed carries it: decimal, zero-padded to 20 digits, so strings order as numbers. */
export function formatSeq(n: bigint | number | string): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${n}`);
  if (typeof n === 'string' && !/^\d{1,20}$/.test(n)) throw new RangeError('not a decimal sequence number');
  const value = BigInt(n);
  if (value < 0n || value > SEQ_MAX) throw new RangeError(`sequence number out of range: ${value}`);
  return value.toString().padStart(SEQ_DIGITS, '0');
}

/** The number of a feed sequence string; throws on anything but exactly 20 digits. */
export function parseSeq(seq: string): bigint {
  if (!SEQ_PATTERN.test(seq)) throw new RangeError('a sequence number is exactly 20 digits');
  return BigInt(seq);
}

/**
 * Kafka's usual message limit (`max.message.bytes`), used for every contract topic unless configured
 * otherwise (`KAFKA_MAX_MESSAGE_BYTES`).
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * What a message needs beside its event's JSON: registry framing (5 bytes), key, headers (trace context,
 * CloudEvents attributes) and Kafka's record and batch framing. Generous, so a fitted event always passes the
 * outbox's size check.
 */
export const MESSAGE_HEADROOM_BYTES = 4_096;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

type Upserted = EventOf<typeof RecordUpserted>;

/**
 * What the sync engine calls when it builds a record event: the event as it is when it fits a topic whose
 * message limit is `maxMessageBytes`, otherwise the same event with `after` replaced by
 * `payloadOmitted: {reason: 'too_large', bytes}` (the payload stays in the mirror). Pure.
 */
export function fitRecordEvent<E extends Upserted>(event: E, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): E {
  const { after, ...rest } = event.data;
  if (after === undefined || jsonBytes(event) <= maxMessageBytes - MESSAGE_HEADROOM_BYTES) return event;
  return { ...event, data: { ...rest, payloadOmitted: { reason: 'too_large', bytes: jsonBytes(after) } } };
}

/**
 * The state-topic event of an upsert: the same record facts without `op` and `reason`, in an envelope of its
 * own (new id; source, time, org, realm and trace as the upsert's).
 */
export function recordStateOf(
  event: Upserted,
  newId: () => string = randomUUIDv7,
): EventOf<typeof RecordState> {
  const { op: _op, reason: _reason, ...data } = event.data;
  return {
    ...event,
    id: newId(),
    type: 'RecordState',
    version: 1,
    data,
  };
}
