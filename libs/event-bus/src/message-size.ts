import type { Message } from 'kafkajs';

/**
 * Bytes Kafka's record format spends around one record and its batch (batch header 61, record lengths, offsets
 * and timestamps as varints), rounded up.
 */
const RECORD_FRAMING_BYTES = 128;
/** Per header: its name and value lengths as varints. */
const HEADER_FRAMING_BYTES = 10;

const byteLength = (v: Buffer | string | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

/** What a message costs against a topic's `max.message.bytes`, over-estimated a little, never under. */
export function messageBytes(message: Pick<Message, 'key' | 'value' | 'headers'>): number {
  let size = RECORD_FRAMING_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) size += HEADER_FRAMING_BYTES + Buffer.byteLength(name) + byteLength(v);
  }
  return size;
}

/** An event that would not fit its topic's message limit; refused before anything is written. */
export class EventTooLargeError extends Error {
  readonly code = 'event_too_large';
  readonly retryable = false;

  constructor(
    readonly eventType: string,
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `${eventType} is ${bytes} bytes as a message on ${topic}, over the topic's limit of ${limit} bytes; ` +
        'record events fit themselves with fitRecordEvent',
    );
    this.name = 'EventTooLargeError';
  }
}
