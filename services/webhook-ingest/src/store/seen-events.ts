import { execute, query, type SqlContext } from '@qbo/service-kit';

/** Event ids already published, within the dedupe window. */
export interface SeenEvents {
  seen(eventIds: readonly string[], windowMs: number): Promise<Set<string>>;
  /** Called only after Kafka acknowledged: a failed publish must not make the retry look like a duplicate. */
  record(eventIds: readonly string[]): Promise<void>;
  prune(olderThanMs: number): Promise<void>;
}

export function createSeenEvents(db: SqlContext): SeenEvents {
  return {
    async seen(eventIds, windowMs) {
      if (eventIds.length === 0) return new Set();
      const rows = await query<{ event_id: string }>(
        db,
        `select event_id from seen_event where event_id = any($1::text[])
         and seen_at > now() - make_interval(secs => $2::double precision)`,
        [eventIds, windowMs / 1000],
      );
      return new Set(rows.map((r) => r.event_id));
    },
    async record(eventIds) {
      if (eventIds.length === 0) return;
      await execute(
        db,
        `insert into seen_event (event_id) select distinct unnest($1::text[])
         on conflict (event_id) do update set seen_at = now()`,
        [eventIds],
      );
    },
    async prune(olderThanMs) {
      await execute(
        db,
        'delete from seen_event where seen_at < now() - make_interval(secs => $1::double precision)',
        [olderThanMs / 1000],
      );
    },
  };
}
