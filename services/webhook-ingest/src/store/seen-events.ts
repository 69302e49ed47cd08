import { placeholders, type Sql } from './sql.js';

/** Event ids already published, within the dedupe window. */
export interface SeenEvents {
  seen(eventIds: readonly string[], windowMs: number): Promise<Set<string>>;
  /** Called only after Kafka acknowledged: a failed publish must not make the retry look like a duplicate. */
  record(eventIds: readonly string[]): Promise<void>;
  prune(olderThanMs: number): Promise<void>;
}

export function createSeenEvents(sql: Sql): SeenEvents {
  return {
    async seen(eventIds, windowMs) {
      if (eventIds.length === 0) return new Set();
      const rows = await sql<{ event_id: string }>(
        `select event_id from seen_event where event_id in (${placeholders(eventIds.length)})
         and seen_at > now() - make_interval(secs => ?)`,
        [...eventIds, windowMs / 1000],
      );
      return new Set(rows.map((r) => r.event_id));
    },
    async record(eventIds) {
      if (eventIds.length === 0) return;
      await sql(
        `insert into seen_event (event_id) values ${eventIds.map(() => '(?)').join(', ')}
         on conflict (event_id) do update set seen_at = now()`,
        eventIds,
      );
    },
    async prune(olderThanMs) {
      await sql('delete from seen_event where seen_at < now() - make_interval(secs => ?)', [
        olderThanMs / 1000,
      ]);
    },
  };
}
