import type { Logger } from '@qbo/service-kit';
import type { ApiLogRow, ApiLogSink, ApiLogStore } from './row.js';

export interface ApiLogWriterOptions {
  store: ApiLogStore;
  log: Logger;
  /** Rows per insert; a full batch is flushed at once. */
  maxBatch?: number;
  flushIntervalMs?: number;
  /** Rows held while the store is slow or down; past it the oldest are dropped (and counted). */
  maxBuffered?: number;
}

export interface ApiLogWriter extends ApiLogSink {
  /** Writes every buffered row now. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left: a shutdown step. */
  close(): Promise<void>;
  readonly dropped: number;
  /** Rows waiting for the next insert (those of an insert under way not counted). */
  readonly buffered: number;
}

/**
 * Buffers rows and inserts them in batches off the call path: `write` only pushes to an array, so a slow
 * or failing database never delays or fails an API call. A failed insert is retried with the next flush.
 */
export function createApiLogWriter({
  store,
  log,
  maxBatch = 200,
  flushIntervalMs = 1_000,
  maxBuffered = 10_000,
}: ApiLogWriterOptions): ApiLogWriter {
  let buffer: ApiLogRow[] = [];
  let dropped = 0;
  let flushing: Promise<void> | undefined;
  let closed = false;

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      buffer = buffer.slice(batch.length);
      try {
        await store.insert(batch);
      } catch (err) {
        buffer = batch.concat(buffer);
        trim();
        log.warn({ err, rows: buffer.length }, 'api log insert failed');
        return;
      }
    }
  }

  function trim(): void {
    if (buffer.length <= maxBuffered) return;
    const excess = buffer.length - maxBuffered;
    buffer = buffer.slice(excess);
    dropped += excess;
    log.warn({ dropped }, 'api log buffer full, oldest rows dropped');
  }

  function flush(): Promise<void> {
    if (!flushing) {
      flushing = drain().finally(() => {
        flushing = undefined;
      });
    }
    return flushing;
  }

  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    write(row) {
      if (closed) return;
      buffer.push(row);
      trim();
      if (buffer.length >= maxBatch && !flushing) void flush();
    },
    async flush() {
      await flushing;
      await flush();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await flushing;
      await flush();
    },
    get dropped() {
      return dropped;
    },
    get buffered() {
      return buffer.length;
    },
  };
}
