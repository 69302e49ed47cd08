import { categoriseItemFault } from '../classify.js';
import { type Fault, faultField, parseFault, QboError, safeMessage } from '../errors.js';
import type { QboObject } from './context.js';

export interface QueryPage<T extends QboObject = QboObject> {
  entity: string;
  rows: T[];
  startPosition: number;
  /** Rows in this page (Intuit's `maxResults` is the count returned). */
  maxResults: number;
  /** Only for `COUNT(*)` queries. */
  totalCount?: number;
  /** Intuit's clock when it answered (the response's `time`): where a sync's cursor may safely move to. */
  time?: string;
}

export interface CdcResult {
  /** Changed objects per entity; deleted ones are stubs with `status: "Deleted"`. */
  changes: Record<string, QboObject[]>;
  /**
   * Intuit returns at most 1000 objects per CDC call, cutting silently; true when this answer was cut, so
   * the caller must narrow the window (https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture).
   */
  truncated: boolean;
  /** Intuit's clock when it answered (the response's `time`). */
  time?: string;
}

export const CDC_MAX_OBJECTS = 1000;

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The value under `entity`, whatever its case in the answer. */
function keyed(obj: Record<string, unknown>, entity: string): unknown {
  if (entity in obj) return obj[entity];
  const lower = entity.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

const timeOf = (response: unknown): { time?: string } => {
  const time = record(response).time;
  return typeof time === 'string' ? { time } : {};
};

export function queryPage<T extends QboObject>(entity: string, response: unknown): QueryPage<T> {
  const qr = record(record(response).QueryResponse);
  const rows = keyed(qr, entity);
  const list = Array.isArray(rows) ? (rows as T[]) : [];
  return {
    entity,
    rows: list,
    startPosition: typeof qr.startPosition === 'number' ? qr.startPosition : 1,
    maxResults: typeof qr.maxResults === 'number' ? qr.maxResults : list.length,
    ...(typeof qr.totalCount === 'number' ? { totalCount: qr.totalCount } : {}),
    ...timeOf(response),
  };
}

export function entityObject<T extends QboObject>(entity: string, response: unknown): T {
  const value = keyed(record(response), entity);
  return record(value) as T;
}

export function cdcResult(response: unknown): CdcResult {
  const first = record(response).CDCResponse;
  const groups = Array.isArray(first) ? record(first[0]).QueryResponse : undefined;
  const changes: Record<string, QboObject[]> = {};
  let total = 0;
  let cut = false;
  for (const group of Array.isArray(groups) ? groups : []) {
    const g = record(group);
    for (const [key, value] of Object.entries(g)) {
      if (!Array.isArray(value)) continue;
      changes[key] = [...(changes[key] ?? []), ...(value as QboObject[])];
      total += value.length;
      if (typeof g.totalCount === 'number' && g.totalCount > value.length) cut = true;
    }
  }
  return { changes, truncated: cut || total >= CDC_MAX_OBJECTS, ...timeOf(response) };
}

export type BatchItemResult =
  | { bId: string; ok: true; entity: string; object: QboObject }
  | { bId: string; ok: true; query: QueryPage }
  | { bId: string; ok: false; error: QboError };

export interface BatchItemMeta {
  bId: string;
  entity: string;
  entityId: string | undefined;
}

/** Each item's answer, in request order; a faulted item becomes a QboError of its own. */
export function batchResults(
  response: unknown,
  items: readonly BatchItemMeta[],
  attempts: number,
  intuitTid: string | null,
): BatchItemResult[] {
  const answers = record(response).BatchItemResponse;
  const byId = new Map<string, Record<string, unknown>>();
  for (const a of Array.isArray(answers) ? answers : []) byId.set(String(record(a).bId), record(a));
  return items.map((item): BatchItemResult => {
    const answer = byId.get(item.bId);
    if (!answer) {
      return { bId: item.bId, ok: false, error: itemError(item, { code: 'missing' }, attempts, intuitTid) };
    }
    if (answer.Fault) {
      const fault = parseFault(JSON.stringify({ Fault: answer.Fault })) ?? {};
      return { bId: item.bId, ok: false, error: itemError(item, fault, attempts, intuitTid) };
    }
    // An item's QueryResponse has no time of its own: the batch's is when Intuit answered it.
    if (answer.QueryResponse) {
      return { bId: item.bId, ok: true, query: { ...queryPage(item.entity, answer), ...timeOf(response) } };
    }
    return { bId: item.bId, ok: true, entity: item.entity, object: entityObject(item.entity, answer) };
  });
}

function itemError(item: BatchItemMeta, fault: Fault, attempts: number, intuitTid: string | null): QboError {
  return new QboError({
    category: categoriseItemFault(fault),
    code: fault.code ?? 'fault',
    message: safeMessage(fault, 'the batch item failed'),
    attempts,
    operation: 'batch',
    entityType: item.entity,
    ...(item.entityId === undefined ? {} : { entityId: item.entityId }),
    ...(intuitTid === null ? {} : { intuitTid }),
    ...(fault.type === undefined ? {} : { faultType: fault.type }),
    ...(faultField(fault) === undefined ? {} : { field: faultField(fault) as string }),
  });
}
