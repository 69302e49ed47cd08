import { execute, type SqlContext } from '@qbo/service-kit';

export type KeptReason = 'malformed_entry' | 'stale' | 'too_large';

/** Something a signed delivery carried that is not published, kept for inspection instead. */
export interface KeptEntry {
  reason: KeptReason;
  /** Why, in a few words (a schema problem, the event's age, a size); never a secret. */
  detail: string;
  realmId?: string;
  eventId?: string;
  /** The entry as received (its JSON), or the whole body. */
  body: Uint8Array | string;
}

export interface KeptEntries {
  /** Idempotent: the same body kept for the same reason again is one row. */
  keep(entries: readonly KeptEntry[], receivedAt: string): Promise<void>;
}

export function createKeptEntries(db: SqlContext): KeptEntries {
  return {
    async keep(entries, receivedAt) {
      if (entries.length === 0) return;
      const bodies = entries.map((e) => Buffer.from(e.body));
      await execute(
        db,
        `insert into kept_entry (reason, detail, realm_id, event_id, body, body_sha256, received_at)
         select reason, detail, realm_id, event_id, body, sha256(body), $6::timestamptz
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[])
           as k(reason, detail, realm_id, event_id, body)
         on conflict (reason, body_sha256) do nothing`,
        [
          entries.map((e) => e.reason),
          entries.map((e) => e.detail),
          entries.map((e) => e.realmId ?? null),
          entries.map((e) => e.eventId ?? null),
          bodies,
          receivedAt,
        ],
      );
    },
  };
}
