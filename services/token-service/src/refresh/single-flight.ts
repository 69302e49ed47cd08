/**
 * One flight per key in this process: a call while one is in the air shares its result instead of starting
 * another; the next call after it lands starts a new one.
 */
export function createSingleFlight<K, V>() {
  const inflight = new Map<K, Promise<V>>();
  return (key: K, start: () => Promise<V>): Promise<V> => {
    const existing = inflight.get(key);
    if (existing) return existing;
    const started = start().finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  };
}
