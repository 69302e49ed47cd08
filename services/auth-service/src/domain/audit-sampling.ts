/** A window's refusals of one kind beyond the sampled ones, to be written as one summary. */
export interface Summary<K> {
  kind: K;
  count: number;
  first: Date;
  last: Date;
}

/**
 * Per kind of refusal (stage, reason, org), the first `perWindow` of a window are written one by one and the
 * rest only counted, until `drain` closes the window and hands back one summary per kind that had more. So
 * an unauthenticated flood costs a bounded number of audit events per window while every refusal is counted.
 */
export function createAuditSampler<K>({
  perWindow,
  keyOf,
}: {
  perWindow: number;
  keyOf: (kind: K) => string;
}) {
  let window = new Map<string, { seen: number; summary?: Summary<K> }>();
  return {
    /** True when this refusal is written on its own; otherwise it is counted into the window's summary. */
    admit(kind: K, at: Date): boolean {
      const key = keyOf(kind);
      const entry = window.get(key) ?? { seen: 0 };
      window.set(key, entry);
      entry.seen += 1;
      if (entry.seen <= perWindow) return true;
      if (entry.summary) {
        entry.summary.count += 1;
        entry.summary.last = at;
      } else entry.summary = { kind, count: 1, first: at, last: at };
      return false;
    },
    /** Closes the window: its summaries, and a fresh window. */
    drain(): Summary<K>[] {
      const closed = window;
      window = new Map();
      return [...closed.values()].flatMap((e) => (e.summary ? [e.summary] : []));
    },
  };
}
