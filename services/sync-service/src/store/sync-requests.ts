import { execute } from '@qbo/service-kit';
import type { ControlRecord } from './controls.js';
import type { Em } from './sql.js';

export type SyncRequestMode = 'incremental' | 'full' | 'reconciliation';

export interface SyncRequest {
  orgId: string;
  connectionId: string;
  mode: SyncRequestMode;
  /** Reconciliation and full: the entities to reconcile or resync (all the company's when absent). */
  entities?: readonly string[] | undefined;
}

/**
 * Records a sync asked for (a `RequestSync` command or the API) on an active company: due now, as a `command`
 * run. `full` loads the company again as a new generation, or only the named entities (a resync: the other
 * entities and the CDC cursor are left as they are; a pending load of the whole company covers them already,
 * a pending resync of other entities is widened to them); `reconciliation` reconciles the named entities (or
 * all); `incremental` is the next delta. Resolves with whether an active company of the org held the connection.
 */
export async function requestSync(em: Em, r: SyncRequest): Promise<boolean> {
  const set =
    r.mode === 'full'
      ? `load_entities = case when $3::text[] is null or (needs_load and load_entities is null) then null
           when needs_load then array(select distinct unnest(load_entities || $3::text[]) order by 1)
           else $3::text[] end,
         needs_load = true, load_run_id = null, load_until = null`
      : r.mode === 'reconciliation'
        ? `reconcile_at = now(), reconcile_entities = coalesce($3::text[], '{}')`
        : 'updated_at = now()';
  const changed = await execute(
    em,
    `update sync_target set ${set}, wanted_at = now(), wanted_reason = 'command'
     where org_id = $1 and connection_id = $2::uuid and status = 'active'`,
    r.mode === 'incremental' ? [r.orgId, r.connectionId] : [r.orgId, r.connectionId, r.entities ?? null],
  );
  return changed > 0;
}

/** What came of a sync asked of a company: `accepted`, or why nothing was recorded. */
export type SyncAskOutcome =
  | { outcome: 'accepted' }
  | { outcome: 'invalid' }
  | { outcome: 'unknown_entity'; entities: string[] }
  | { outcome: 'paused' }
  | { outcome: 'inactive' };

/**
 * A sync asked of a company the caller may act on (the HTTP API's `POST /connections/:id/sync` and the
 * `RequestSync` command alike), checked in this order and recorded only when every check passes: an
 * incremental sync naming entities is `invalid` (CDC reads the whole company in one call); an entity the
 * company does not sync is `unknown_entity`; a paused company is `paused` (resume first); a company no longer
 * active is `inactive` (it must reconnect).
 */
export async function askSync(
  em: Em,
  t: ControlRecord,
  ask: { mode: SyncRequestMode; entities?: readonly string[] | undefined },
): Promise<SyncAskOutcome> {
  if (ask.mode === 'incremental' && ask.entities !== undefined) return { outcome: 'invalid' };
  const unknown = (ask.entities ?? []).filter((n) => !t.entities.includes(n));
  if (unknown.length > 0) return { outcome: 'unknown_entity', entities: unknown };
  if (t.paused_at !== null) return { outcome: 'paused' };
  const recorded = await requestSync(em, {
    orgId: t.org_id,
    connectionId: t.connection_id,
    mode: ask.mode,
    entities: ask.entities,
  });
  return recorded ? { outcome: 'accepted' } : { outcome: 'inactive' };
}
