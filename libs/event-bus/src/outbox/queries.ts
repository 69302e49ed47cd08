/** The relay's statements on a service's outbox table (already quoted). */
export function outboxQueries(outbox: string) {
  return {
    tryLock: 'select pg_try_advisory_lock(hashtext($1)) as locked',
    /**
     * The lowest unsent rows, leaving out those in flight ($2). The batch's seqs first, then the rows, so the
     * rows' contents are read for the batch only. A tombstone's `json` is null.
     */
    fetch: `with batch as (
        select seq from ${outbox} where sent_at is null and seq <> all($2::bigint[]) order by seq limit $1
      )
      select o.seq, o.event_id as id, o.topic, o.type, o.version, o.key, o.traceparent, o.tracestate, o.headers,
        o.payload::text as json,
        (extract(epoch from o.created_at) * 1000)::float8 as created_ms
      from batch join ${outbox} o using (seq) order by o.seq`,
    markSent: `update ${outbox} set sent_at = now() where seq = any($1::bigint[])`,
    /**
     * Sent rows past their retention, oldest seqs first through the primary key (sent rows are the low seqs),
     * a bounded number per turn, so no index on `sent_at` has to be kept up by every publish.
     */
    prune: `delete from ${outbox} where seq in (
        select seq from ${outbox} where sent_at < now() - make_interval(secs => $1) order by seq limit 10000
      )`,
  } as const;
}
