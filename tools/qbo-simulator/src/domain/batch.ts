import type { Policies } from '../policies.js';
import type { ChangeEvent, Company } from './company.js';
import { isRecord } from './entities/common.js';
import { entityDef } from './entities/registry.js';
import type { QboObject, Row } from './entities/types.js';
import { faults, isQboFault } from './fault.js';
import { write } from './operations.js';
import type { PoisonCheck } from './poison.js';
import { executeQuery, queryResponseJson } from './query/execute.js';

export const MAX_BATCH_ITEMS = 30;
/** Objects one batch response may hold, across all its items (qbo-api-facts §5, §6.3). */
export const MAX_BATCH_OBJECTS = 1000;
/** With a `requestid`, each bId is at most 10 characters (qbo-api-facts §4.3). */
export const MAX_BID_WITH_REQUEST_ID = 10;

const ITEM_KEYS = new Set(['bId', 'operation', 'optionsData']);

export interface BatchOptions {
  now: number;
  poison?: PoisonCheck | undefined;
  overflow: Policies['batchOverflow'];
  /** The batch carries a `requestid`, which limits bIds to 10 characters. */
  withRequestId: boolean;
}

function checkBIds(items: readonly unknown[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (!isRecord(item) || item.bId === undefined) continue;
    const bId = String(item.bId);
    if (seen.has(bId)) {
      throw faults.businessValidation(
        `Business Validation Error: Duplicate bId ${bId} in the batch request.`,
      );
    }
    seen.add(bId);
  }
}

/**
 * Batch (qbo-api-facts §5): at most 30 items, each answered on its own (HTTP 200 even when items fail)
 * with its `bId` and exactly one of the entity, `QueryResponse` or `Fault`. Items are independent: a record
 * created by one item is not visible to later items (reads, queries, refs). At most 1000 objects come back
 * across the response: past it query rows are cut, or the item faults (`batchOverflow`).
 */
export function batch(company: Company, body: unknown, options: BatchOptions) {
  const items = isRecord(body) ? body.BatchItemRequest : undefined;
  if (!Array.isArray(items)) throw faults.required('BatchItemRequest');
  if (items.length > MAX_BATCH_ITEMS) {
    throw faults.businessValidation(
      `Batch request has ${items.length} items. The maximum number of batch items in a request is ${MAX_BATCH_ITEMS}.`,
    );
  }
  checkBIds(items);
  const events: ChangeEvent[] = [];
  let budget = MAX_BATCH_OBJECTS;
  const hidden = new Set<Row>();
  company.hidden = hidden;
  try {
    const answers = items.map((item: unknown) => {
      const bId = isRecord(item) && item.bId !== undefined ? String(item.bId) : '';
      const prefix = `{"bId":${JSON.stringify(bId)},`;
      try {
        if (!isRecord(item) || bId === '') throw faults.required('bId');
        if (options.withRequestId && bId.length > MAX_BID_WITH_REQUEST_ID) {
          throw faults.businessValidation(
            `Business Validation Error: You cannot enter more than ${MAX_BID_WITH_REQUEST_ID} characters in the bId field when the request has a request_id.`,
          );
        }
        if (typeof item.Query === 'string') {
          const answer = executeQuery(company, item.Query, { now: options.now, poison: options.poison });
          if (answer.kind === 'rows' && answer.rows.length > budget) {
            if (options.overflow === 'fault') {
              throw faults.businessValidation(
                `Business Validation Error: A batch response can hold at most ${MAX_BATCH_OBJECTS} objects.`,
              );
            }
            answer.rows = answer.rows.slice(0, budget);
          }
          if (answer.kind === 'rows') budget -= answer.rows.length;
          return `${prefix}"QueryResponse":${queryResponseJson(answer)}}`;
        }
        const key = Object.keys(item).find((k) => !ITEM_KEYS.has(k));
        const def = key === undefined ? undefined : entityDef(key);
        if (!def || key === undefined)
          throw faults.invalidProperty('Property Name:BatchItemRequest specified is unsupported or invalid');
        const operation = typeof item.operation === 'string' ? item.operation : undefined;
        const result = write(company, def, operation, undefined, item[key] as QboObject, options.now);
        events.push(...result.events);
        const created = company.find(def.name, String(result.body.Id));
        if (created && result.events[0]?.operation === 'Create') hidden.add(created);
        budget--;
        return `${prefix}${JSON.stringify({ [result.entity]: result.body }).slice(1)}`;
      } catch (err) {
        if (!isQboFault(err)) throw err;
        return `${prefix}${JSON.stringify(err.body()).slice(1)}`;
      }
    });
    return { json: `[${answers.join(',')}]`, events };
  } finally {
    company.hidden = undefined;
  }
}
