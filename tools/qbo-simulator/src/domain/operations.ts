import type { Company } from './company.js';
import { isRecord } from './entities/common.js';
import type { EntityDef, QboObject } from './entities/types.js';
import { faults } from './fault.js';
import { createRecord, deleteRecord, updateRecord, voidRecord, type WriteResult } from './writes.js';

/**
 * Dispatches `POST /{entity}` by `operation` (qbo-api-facts §2.1, §4.3): create, or update when the body
 * carries an Id; `delete`; `void`; and `update` with `include=void`, which is how payments are voided.
 */
export function write(
  company: Company,
  def: EntityDef,
  operation: string | undefined,
  include: string | undefined,
  body: unknown,
  now: number,
): WriteResult {
  if (!isRecord(body)) throw faults.invalidProperty('Request has invalid or unsupported property');
  const op = operation?.toLowerCase();
  if (op === 'delete') return deleteRecord(company, def, body, now);
  if (op === 'void' || (op === 'update' && include?.split(',').includes('void'))) {
    return voidRecord(company, def, body, now);
  }
  if (op === 'update' || (op === undefined && body.Id !== undefined))
    return updateRecord(company, def, body, now);
  if (op === undefined || op === 'create') return createRecord(company, def, body, now);
  throw faults.unsupportedOperation(operation ?? '');
}
