import { AppError } from '@qbo/service-kit';

export interface BatcherOptions<I, O> {
  /** Runs one batch; answers one output per input, in order. */
  run: (items: readonly I[]) => Promise<readonly O[]>;
  maxItems: number;
  now?: () => number;
}

interface Waiting<I, O> {
  item: I;
  /** Past this the caller has given up (it answered 503); the item is not sent at all. */
  expiresAt: number;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class ExpiredInQueue extends AppError {
  constructor(message: string) {
    super('expired_in_queue', message, { status: 503, retryable: true });
  }
}

/**
 * Group commit: while one batch is in flight, concurrent callers queue, and the next batch takes them all. With
 * one request in flight to Kafka (ordering) and one round trip per query, this is what lets throughput grow
 * with concurrency instead of serialising on the slowest step.
 */
export function createBatcher<I, O>({ run, maxItems, now = Date.now }: BatcherOptions<I, O>) {
  const queue: Waiting<I, O>[] = [];
  let running = false;

  async function drain() {
    running = true;
    while (queue.length > 0) {
      const taken = queue.splice(0, maxItems);
      const at = now();
      const live = taken.filter((w) => {
        if (w.expiresAt > at) return true;
        w.reject(new ExpiredInQueue('gave up before the batch was sent'));
        return false;
      });
      if (live.length === 0) continue;
      try {
        const out = await run(live.map((w) => w.item));
        live.forEach((w, i) => {
          w.resolve(out[i] as O);
        });
      } catch (err) {
        for (const w of live) w.reject(err);
      }
    }
    running = false;
  }

  return (item: I, expiresAt = Number.POSITIVE_INFINITY): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, expiresAt, resolve, reject });
      if (!running) void drain();
    });
}
