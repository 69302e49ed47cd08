import { isQboError } from '@qbo/qbo-client';
import type { EntityDecl } from '../domain/entities.js';
import { closeNamedPlace, lonePlaces } from '../store/sync-errors.js';
import { IDS_PER_QUERY, where } from './query-window.js';
import type { SyncSession } from './session.js';

/** At most this many places are counted in one call: a company rarely has more than one. */
export const MAX_NAMED_PLACES = 10;

/**
 * A record known first by its place (a position in a LastUpdatedTime range no read of Intuit's could return)
 * and later by its Id, once a read of that Id failed too, is one failure: it keeps the row by its Id, and the
 * place's row closes as `named`. Only a place that is the only one its range ever had is considered: that
 * range held one record Intuit could not return. The range ends in the past, so a record in it now was in it,
 * unchanged and so as unreadable, when the place was found: one count at Intuit of the failed Ids within the
 * range (a count reads no record, so it answers) says whether one of them stood there. The naming only tidies
 * the rows, so a count Intuit fails ends it without failing the run; the rows stay as they were.
 */
export async function namePlaces(s: SyncSession, decl: EntityDecl, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const places = await s.write((em) => lonePlaces(em, s.target, decl.name, MAX_NAMED_PLACES));
  let named = 0;
  for (const place of places) {
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      let held: number;
      try {
        const answer = await s.query({
          entity: decl.name,
          count: true,
          where: [
            ...where(decl, place.from, place.to),
            { field: 'Id', op: 'IN', value: ids.slice(i, i + IDS_PER_QUERY) },
          ],
        });
        held = answer.totalCount ?? 0;
      } catch (err) {
        if (isQboError(err)) return named;
        throw err;
      }
      if (held === 0) continue;
      await s.write((em) => closeNamedPlace(em, s.target, place.errorId, s.runId));
      named++;
      break;
    }
  }
  return named;
}
