import { parseQboTime } from '../qbo-time.js';
import type { Company } from './company.js';
import { entityDef } from './entities/registry.js';
import type { EntityDef, Row } from './entities/types.js';
import { faults } from './fault.js';
import { assertReadable, type PoisonCheck } from './poison.js';
import { rowJson } from './query/execute.js';

export const CDC_MAX_DAYS = 30;
export const CDC_MAX_OBJECTS = 1000;
const DAY = 86_400_000;

/** Entities Intuit's CDC refuses that the simulator does not serve at all (qbo-api-facts §3). */
const UNSUPPORTED = ['journalcode', 'taxagency', 'timeactivity', 'taxrate'];

export interface CdcRequest {
  entities: string | undefined;
  changedSince: string | undefined;
}

/**
 * Change Data Capture: every object of the named entities changed at or after `changedSince`, which must be
 * within the last 30 days; at most 1000 objects in all, silently cut, no paging. Groups follow the
 * requested entity order, each by LastUpdatedTime with deleted stubs after live objects.
 */
export function changeDataCapture(
  company: Company,
  request: CdcRequest,
  now: number,
  poison?: PoisonCheck,
): string {
  if (!request.entities) throw faults.required('entities');
  if (!request.changedSince) throw faults.required('changedSince');
  const since = parseQboTime(request.changedSince);
  if (Number.isNaN(since)) {
    throw faults.invalidProperty(`Invalid changedSince value ${request.changedSince}`);
  }
  if (since < now - CDC_MAX_DAYS * DAY) {
    throw faults.businessValidation(
      `Operation cdc with changedSince date ${request.changedSince} which is older than fixed days is not supported.`,
    );
  }
  const defs: EntityDef[] = [];
  for (const name of request.entities
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const def = entityDef(name);
    if (UNSUPPORTED.includes(name.toLowerCase()) || def?.cdc === false)
      throw faults.unsupportedOperation(`cdc for ${name}`);
    if (!def)
      throw faults.invalidProperty(`Property Name:entities ${name} specified is unsupported or invalid`);
    if (!defs.includes(def)) defs.push(def);
  }

  let budget = CDC_MAX_OBJECTS;
  const groups: string[] = [];
  for (const def of defs) {
    const table = company.tables[def.name];
    const live: Row[] = [];
    const deleted: Row[] = [];
    for (let i = table.firstUpdatedAtOrAfter(since); i < table.updatedOrder.length; i++) {
      const row = table.updatedOrder[i] as Row;
      (row.deleted ? deleted : live).push(row);
    }
    const all = live.concat(deleted);
    if (all.length === 0) continue;
    const shown = all.slice(0, Math.max(0, budget));
    budget -= shown.length;
    if (shown.length === 0) break;
    assertReadable(shown, poison);
    const totalCount = shown.length < all.length ? `,"totalCount":${all.length}` : '';
    groups.push(
      `{"${def.name}":[${shown.map(rowJson).join(',')}],"startPosition":1,"maxResults":${shown.length}${totalCount}}`,
    );
  }
  return `[{"QueryResponse":[${groups.length > 0 ? groups.join(',') : '{}'}]}]`;
}
