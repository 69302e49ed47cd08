import type { ChangeEvent, Company } from './company.js';
import { isRecord } from './entities/common.js';
import { entityDef } from './entities/registry.js';
import type { EntityDef, QboObject } from './entities/types.js';
import { faults, isQboFault } from './fault.js';
import { executeQuery, queryResponseJson } from './query/execute.js';
import { createRecord, deleteRecord, updateRecord, voidRecord, type WriteResult } from './writes.js';

export const MAX_BATCH_ITEMS = 30;

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

const ITEM_KEYS = new Set(['bId', 'operation', 'optionsData']);

/**
 * Batch: at most 30 items, each answered on its own (HTTP 200 even when items fail) with its `bId` and
 * exactly one of the entity, `QueryResponse` or `Fault` (qbo-api-facts §5). Items run in order.
 */
export function batch(company: Company, body: unknown, now: number): { json: string; events: ChangeEvent[] } {
  const items = isRecord(body) ? body.BatchItemRequest : undefined;
  if (!Array.isArray(items)) throw faults.required('BatchItemRequest');
  if (items.length > MAX_BATCH_ITEMS) {
    throw faults.businessValidation(
      `Batch request has ${items.length} items. The maximum number of batch items in a request is ${MAX_BATCH_ITEMS}.`,
    );
  }
  const events: ChangeEvent[] = [];
  const answers = items.map((item: unknown) => {
    const bId = isRecord(item) && item.bId !== undefined ? String(item.bId) : '';
    const prefix = `{"bId":${JSON.stringify(bId)},`;
    try {
      if (!isRecord(item) || bId === '') throw faults.required('bId');
      if (typeof item.Query === 'string') {
        return `${prefix}"QueryResponse":${queryResponseJson(executeQuery(company, item.Query))}}`;
      }
      const key = Object.keys(item).find((k) => !ITEM_KEYS.has(k));
      const def = key === undefined ? undefined : entityDef(key);
      if (!def || key === undefined)
        throw faults.invalidProperty('Property Name:BatchItemRequest specified is unsupported or invalid');
      const operation = typeof item.operation === 'string' ? item.operation : undefined;
      const result = write(company, def, operation, undefined, item[key] as QboObject, now);
      events.push(...result.events);
      return `${prefix}${JSON.stringify({ [result.entity]: result.body }).slice(1)}`;
    } catch (err) {
      if (!isQboFault(err)) throw err;
      return `${prefix}${JSON.stringify(err.body()).slice(1)}`;
    }
  });
  return { json: `[${answers.join(',')}]`, events };
}
