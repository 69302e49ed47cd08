import type { EntityDecl } from '../domain/entities.js';
import { closeNamedPlace, type OpenPlace, openPlaces } from '../store/sync-errors.js';
import { where } from './query-window.js';
import type { SyncSession } from './session.js';

/** At most this many counts are spent naming places in one call: a company rarely has more than one. */
export const MAX_NAMING_COUNTS = 10;

/**
 * Which (place, Id) pairs could be one record: a place alone in its range (two unreadable records of one range
 * cannot be told apart) against each Id that just failed by itself. Pairs beyond `max` wait for a later run.
 */
export function placesToCheck(
  places: readonly OpenPlace[],
  ids: readonly string[],
  max = MAX_NAMING_COUNTS,
): { place: OpenPlace; id: string }[] {
  const perRange = new Map<string, OpenPlace[]>();
  for (const p of places) {
    const key = `${p.from}..${p.to}`;
    perRange.set(key, [...(perRange.get(key) ?? []), p]);
  }
  const alone = [...perRange.values()].filter((ps) => ps.length === 1).flat();
  return alone.flatMap((place) => ids.map((id) => ({ place, id }))).slice(0, max);
}

/**
 * A record known first by its place (a position in a LastUpdatedTime range no read of Intuit's could return)
 * and later by its Id, once a read of that Id failed too, is one failure: it keeps the row by its Id, and the
 * place's row closes as `named`. Whether the Id stands at the place is counted at Intuit (a count reads no
 * record, so it answers): the Id is in the place's range, and the place is alone there. The range ends in the
 * past, so a record in it now was in it, unchanged and so as unreadable, when the place was found; each range
 * that held one unreadable record and holds the Id stood for it (a delta's and a resync's may both). Costs one
 * count per pair, only while such rows are open.
 */
export async function namePlaces(s: SyncSession, decl: EntityDecl, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const places = await s.write((em) => openPlaces(em, s.target, decl.name));
  const closed = new Set<string>();
  for (const { place, id } of placesToCheck(places, ids)) {
    if (closed.has(place.errorId)) continue;
    const answer = await s.query({
      entity: decl.name,
      count: true,
      where: [...where(decl, place.from, place.to), { field: 'Id', op: '=', value: id }],
    });
    if (answer.totalCount !== 1) continue;
    await s.write((em) => closeNamedPlace(em, s.target, place.errorId, s.runId));
    closed.add(place.errorId);
  }
  return closed.size;
}
