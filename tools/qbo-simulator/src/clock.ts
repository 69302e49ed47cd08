/**
 * The simulator's notion of "now". It runs at wall-clock speed from a chosen start, and tests can jump it
 * forward (an access token's hour passes in one call) or freeze it (a rate-limit window stays put while a
 * test sends its requests).
 */
export interface Clock {
  now(): number;
  /** Moves the clock by `ms` (may be negative). */
  advance(ms: number): void;
  set(ms: number): void;
  freeze(): void;
  unfreeze(): void;
  readonly frozen: boolean;
}

export interface ClockOptions {
  /** Epoch ms the clock starts at; the wall clock when absent. */
  start?: number;
  frozen?: boolean;
  wall?: () => number;
}

export function createClock({ start, frozen = false, wall = Date.now }: ClockOptions = {}): Clock {
  let base = start ?? wall();
  let anchor = wall();
  let isFrozen = frozen;

  const now = () => (isFrozen ? base : base + (wall() - anchor));
  const set = (ms: number) => {
    base = ms;
    anchor = wall();
  };
  return {
    now,
    set,
    advance: (ms) => set(now() + ms),
    freeze() {
      if (isFrozen) return;
      set(now());
      isFrozen = true;
    },
    unfreeze() {
      if (!isFrozen) return;
      set(base);
      isFrozen = false;
    },
    get frozen() {
      return isFrozen;
    },
  };
}
