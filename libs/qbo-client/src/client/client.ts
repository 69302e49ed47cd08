import { randomUUID } from 'node:crypto';
import { type Tracer, trace } from '@opentelemetry/api';
import type { Logger } from '@qbo/service-kit';
import type { ApiLogSink } from '../api-log/row.js';
import type { Budget } from '../budget/budget.js';
import { buildQuery, QueryBuildError, type QueryParts } from '../query.js';
import type { TokenProvider } from '../tokens.js';
import { createCall } from './call.js';
import type { CallContext, QboObject } from './context.js';
import { type ApiRequest, assertId } from './request.js';
import {
  type BatchItemResult,
  batchResults,
  type CdcResult,
  cdcResult,
  entityObject,
  type QueryPage,
  queryPage,
} from './responses.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry-policy.js';

/** Intuit's Accounting API hosts. */
export const INTUIT_API_BASE_URLS = {
  production: 'https://quickbooks.api.intuit.com',
  sandbox: 'https://sandbox-quickbooks.api.intuit.com',
} as const;

/**
 * Minor version 75: since August 2025 Intuit serves every request as 75 whatever it asks for
 * (https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/minor-versions).
 */
export const MINOR_VERSION = 75;

export interface QboClientOptions {
  baseUrl: string;
  minorVersion?: number;
  tokens: TokenProvider;
  budget: Budget;
  apiLog?: ApiLogSink;
  log: Logger;
  fetch?: typeof fetch;
  retry?: Partial<RetryOptions>;
  /** Per attempt; Intuit itself cuts requests at 120 s. */
  timeoutMs?: number;
  tracer?: Tracer;
  now?: () => number;
  random?: () => number;
  newRequestId?: () => string;
}

export type BatchItem =
  | { bId: string; operation: 'create' | 'update' | 'delete' | 'void'; entity: string; object: QboObject }
  | { bId: string; query: QueryParts };

export interface QboClient {
  /** A page of a typed query; see `buildQuery` for the parts. */
  query<T extends QboObject = QboObject>(
    realmId: string,
    parts: QueryParts,
    ctx: CallContext,
  ): Promise<QueryPage<T>>;
  read<T extends QboObject = QboObject>(
    realmId: string,
    entity: string,
    id: string,
    ctx: CallContext,
  ): Promise<T>;
  create<T extends QboObject = QboObject>(
    realmId: string,
    entity: string,
    object: QboObject,
    ctx: CallContext,
  ): Promise<T>;
  /** A sparse update: only the fields given change; `Id` and the `SyncToken` last read are required. */
  update<T extends QboObject = QboObject>(
    realmId: string,
    entity: string,
    changes: QboObject & { Id: string; SyncToken: string },
    ctx: CallContext,
  ): Promise<T>;
  /** Deletes a transaction; name-list entities are made inactive with `update` instead. */
  delete(
    realmId: string,
    entity: string,
    ref: { Id: string; SyncToken: string },
    ctx: CallContext,
  ): Promise<QboObject>;
  /**
   * Voids a transaction (Invoice, Payment, SalesReceipt, BillPayment): the record stays with zero amounts
   * (qbo-api-facts §4.3); the answer is the voided record.
   */
  void(
    realmId: string,
    entity: string,
    ref: { Id: string; SyncToken: string },
    ctx: CallContext,
  ): Promise<QboObject>;
  /** Changes since `changedSince` (within Intuit's 30 days), across entities, at most 1000 objects. */
  cdc(realmId: string, entities: readonly string[], changedSince: Date, ctx: CallContext): Promise<CdcResult>;
  /** Up to 30 items in one request; each item succeeds or fails on its own. */
  batch(realmId: string, items: readonly BatchItem[], ctx: CallContext): Promise<BatchItemResult[]>;
}

const ENTITY = /^[A-Z][A-Za-z]{1,40}$/;
/** Intuit's most items in one `/batch` request, and most objects across its answer (qbo-api-facts §5). */
export const MAX_BATCH_ITEMS = 30;
export const MAX_BATCH_OBJECTS = 1_000;
/** Longer SELECTs go in a POST body (`application/text`), which Intuit accepts, rather than the URL. */
const MAX_QUERY_IN_URL = 2_000;

function assertEntity(entity: string): string {
  if (!ENTITY.test(entity)) throw new QueryBuildError(`not an entity name: ${entity}`);
  return entity.toLowerCase();
}

export function createQboClient(options: QboClientOptions): QboClient {
  const newRequestId = options.newRequestId ?? randomUUID;
  const call = createCall({
    baseUrl: options.baseUrl,
    minorVersion: options.minorVersion ?? MINOR_VERSION,
    tokens: options.tokens,
    budget: options.budget,
    apiLog: options.apiLog,
    log: options.log,
    fetch: options.fetch ?? globalThis.fetch,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    timeoutMs: options.timeoutMs ?? 60_000,
    tracer: options.tracer ?? trace.getTracer('@qbo/qbo-client'),
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  });
  // Writes carry Intuit's requestid, so a retry after a lost answer is replayed rather than applied twice.
  const requestId = (ctx: CallContext, max: number) => {
    const id = ctx.requestId ?? newRequestId();
    if (id.length > max) throw new QueryBuildError(`requestid is longer than ${max} characters`);
    return id;
  };
  const write = async <T extends QboObject>(
    realmId: string,
    entity: string,
    body: QboObject,
    ctx: CallContext,
    operation: 'create' | 'update' | 'delete' | 'void',
  ): Promise<T> => {
    const request: ApiRequest = {
      operation,
      method: 'POST',
      segments: [assertEntity(entity)],
      params: {
        ...(operation === 'create' ? {} : { operation }),
        requestid: requestId(ctx, 50),
      },
      body: JSON.stringify(body),
      entityType: entity,
      ...(typeof body.Id === 'string' ? { entityId: body.Id } : {}),
    };
    const { json } = await call(realmId, request, ctx);
    return entityObject<T>(entity, json);
  };

  return {
    async query<T extends QboObject>(realmId: string, parts: QueryParts, ctx: CallContext) {
      const text = buildQuery(parts);
      const inBody = text.length > MAX_QUERY_IN_URL;
      const request: ApiRequest = {
        operation: 'query',
        method: inBody ? 'POST' : 'GET',
        segments: ['query'],
        params: inBody ? {} : { query: text },
        entityType: parts.entity,
        ...(inBody ? { body: text, contentType: 'application/text', queryText: text } : {}),
      };
      const { json } = await call(realmId, request, ctx);
      return queryPage<T>(parts.entity, json);
    },

    async read<T extends QboObject>(realmId: string, entity: string, id: string, ctx: CallContext) {
      assertId(id);
      const request: ApiRequest = {
        operation: 'read',
        method: 'GET',
        segments: [assertEntity(entity), id],
        params: {},
        entityType: entity,
        entityId: id,
      };
      const { json } = await call(realmId, request, ctx);
      return entityObject<T>(entity, json);
    },

    create: (realmId, entity, object, ctx) => write(realmId, entity, object, ctx, 'create'),
    update: (realmId, entity, changes, ctx) =>
      write(realmId, entity, { ...changes, sparse: true }, ctx, 'update'),
    delete: (realmId, entity, ref, ctx) =>
      write(realmId, entity, { Id: ref.Id, SyncToken: ref.SyncToken }, ctx, 'delete'),
    void: (realmId, entity, ref, ctx) =>
      write(realmId, entity, { Id: ref.Id, SyncToken: ref.SyncToken }, ctx, 'void'),

    async cdc(realmId, entities, changedSince, ctx) {
      if (entities.length === 0) throw new QueryBuildError('cdc needs at least one entity');
      for (const e of entities) assertEntity(e);
      if (Number.isNaN(changedSince.getTime())) throw new QueryBuildError('invalid changedSince');
      const request: ApiRequest = {
        operation: 'cdc',
        method: 'GET',
        segments: ['cdc'],
        params: { entities: entities.join(','), changedSince: changedSince.toISOString() },
      };
      const { json } = await call(realmId, request, ctx);
      return cdcResult(json);
    },

    async batch(realmId, items, ctx) {
      if (items.length === 0 || items.length > MAX_BATCH_ITEMS) {
        throw new QueryBuildError(`a batch holds 1..${MAX_BATCH_ITEMS} items`);
      }
      if (new Set(items.map((i) => i.bId)).size !== items.length)
        throw new QueryBuildError('bIds must be unique');
      const meta = items.map((item) =>
        'query' in item
          ? { bId: item.bId, entity: item.query.entity, entityId: undefined }
          : {
              bId: item.bId,
              entity: item.entity,
              entityId: typeof item.object.Id === 'string' ? item.object.Id : undefined,
            },
      );
      const body = {
        BatchItemRequest: items.map((item) => {
          if ('query' in item) return { bId: item.bId, Query: buildQuery(item.query) };
          assertEntity(item.entity);
          const object = item.operation === 'update' ? { ...item.object, sparse: true } : item.object;
          return { bId: item.bId, operation: item.operation, [item.entity]: object };
        }),
      };
      const request: ApiRequest = {
        operation: 'batch',
        method: 'POST',
        segments: ['batch'],
        params: { requestid: requestId(ctx, 36) },
        body: JSON.stringify(body),
        itemsText: body.BatchItemRequest.map((asked, i) => {
          const { entity, entityId } = meta[i] ?? {};
          const what =
            'Query' in asked ? asked.Query : `${asked.operation} ${entity}${entityId ? ` ${entityId}` : ''}`;
          return `${asked.bId}: ${what}`;
        }).join('; '),
      };
      const { json, attempts, intuitTid } = await call(realmId, request, ctx);
      return batchResults(json, meta, attempts, intuitTid);
    },
  };
}
