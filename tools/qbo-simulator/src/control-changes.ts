import type { Company } from './domain/company.js';
import { entityDef } from './domain/entities/registry.js';
import type { EntityName, QboObject } from './domain/entities/types.js';
import { faults } from './domain/fault.js';
import {
  createRecord,
  deleteRecord,
  mergeRecords,
  updateRecord,
  voidRecord,
  type WriteResult,
} from './domain/writes.js';
import type { Policies } from './policies.js';

/** A data change made "in QuickBooks" (by a user, not through the API): it fires webhooks like any other. */
export type ChangeRequest =
  | { op: 'create'; entity: EntityName; data: QboObject }
  | { op: 'update'; entity: EntityName; id: string; data: QboObject }
  | { op: 'delete'; entity: EntityName; id: string }
  | { op: 'void'; entity: EntityName; id: string }
  | { op: 'merge'; entity: EntityName; id: string; into: string };

/**
 * Applies one change at `now`, as a user would make it: updates are sparse and need no SyncToken, a name
 * list's delete makes it inactive, a transaction's delete leaves a tombstone.
 */
export function applyChange(
  company: Company,
  request: ChangeRequest,
  now: number,
  policies: Policies,
): WriteResult {
  const def = entityDef(request.entity);
  if (!def) throw faults.invalidProperty(`Unknown entity ${request.entity}`);
  const syncToken = (id: string) => {
    const row = company.find(def.name, id);
    if (!row || row.deleted) throw faults.notFound();
    return row.data.SyncToken;
  };
  switch (request.op) {
    case 'create':
      return createRecord(company, def, request.data, now);
    case 'update':
      return updateRecord(
        company,
        def,
        { ...request.data, Id: request.id, SyncToken: syncToken(request.id), sparse: true },
        now,
      );
    case 'delete': {
      const ref = { Id: request.id, SyncToken: syncToken(request.id) };
      return def.kind === 'name-list'
        ? updateRecord(company, def, { ...ref, sparse: true, Active: false }, now)
        : deleteRecord(company, def, ref, now);
    }
    case 'void':
      return voidRecord(company, def, { Id: request.id, SyncToken: syncToken(request.id) }, now);
    case 'merge':
      return mergeRecords(company, def, request.id, request.into, now, policies);
  }
}
