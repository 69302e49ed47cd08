import { MAX_RESULTS } from './query.js';

/**
 * Chooses the next page size from how the last pages went: large pages cut calls per record, but a slow or
 * failing page (timeouts, 413, 5xx) means the company's data is heavy, so the size halves at once and grows
 * back gradually while pages stay fast. Always within 1..1000.
 */
export interface PageSizer {
  readonly size: number;
  /** The last page came back in `ms`. */
  succeeded(ms: number): void;
  /** The page failed in a way that a smaller page may avoid. */
  failed(reason: 'timeout' | 'too_large' | 'server'): void;
}

export interface PageSizerOptions {
  initial?: number;
  /** A page slower than this shrinks the size; one faster than half of it grows the size. */
  slowMs?: number;
  min?: number;
  max?: number;
}

export function createPageSizer({
  initial = 200,
  slowMs = 5_000,
  min = 1,
  max = MAX_RESULTS,
}: PageSizerOptions = {}): PageSizer {
  const clamp = (n: number) => Math.max(min, Math.min(max, Math.round(n)));
  let size = clamp(initial);
  return {
    get size() {
      return size;
    },
    succeeded(ms) {
      if (ms > slowMs) size = clamp(size * 0.5);
      else if (ms < slowMs / 2) size = clamp(size * 1.5);
    },
    failed(reason) {
      size = clamp(reason === 'too_large' ? size * 0.25 : size * 0.5);
    },
  };
}
