import { QueryBuildError } from '../query.js';

export type Operation = 'query' | 'read' | 'create' | 'update' | 'delete' | 'void' | 'cdc' | 'batch';

/** One Accounting API request, before the base URL, realm, minor version and token are added. */
export interface ApiRequest {
  operation: Operation;
  method: 'GET' | 'POST';
  /** Path segments after `/v3/company/{realmId}/`, each encoded on the way out. */
  segments: string[];
  params: Record<string, string>;
  body?: string;
  contentType?: string;
  entityType?: string;
  entityId?: string;
  /** The SELECT text when it travels in the body rather than the URL, for the log. */
  queryText?: string;
  /** What each item of a `/batch` asks, for the log: `bId: SELECT…` or `bId: update Invoice 42`, never a body. */
  itemsText?: string;
}

const REALM = /^[A-Za-z0-9]{1,64}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function assertRealm(realmId: string): void {
  if (!REALM.test(realmId)) throw new QueryBuildError('not a realm id');
}

export function assertId(id: string): void {
  if (!ID.test(id)) throw new QueryBuildError('not an entity id');
}

export function requestUrl(baseUrl: string, realmId: string, request: ApiRequest, minorVersion: number): URL {
  const path = ['v3', 'company', realmId, ...request.segments].map(encodeURIComponent).join('/');
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${path}`);
  for (const [key, value] of Object.entries(request.params)) url.searchParams.set(key, value);
  url.searchParams.set('minorversion', String(minorVersion));
  return url;
}

/** Parameters worth keeping in the API log; anything else a request might carry is left out. */
const LOGGED_PARAMS = [
  'query',
  'items',
  'entities',
  'changedSince',
  'operation',
  'include',
  'requestid',
  'minorversion',
];
const MAX_QUERY_TEXT = 1_000;
/** Thirty items of a batch, each a windowed SELECT of about 190 characters, fit. */
const MAX_ITEMS_TEXT = 8_000;

/**
 * The URL's query part for the API log, readable and bounded: the SELECT text is kept (customer names are
 * not secrets and the text is what a person debugging needs) but capped, and so is a batch's list of items.
 */
export function loggedQuery(
  url: URL,
  texts: Pick<ApiRequest, 'queryText' | 'itemsText'> = {},
): string | null {
  const parts: string[] = [];
  for (const key of LOGGED_PARAMS) {
    const value =
      key === 'query'
        ? (url.searchParams.get(key) ?? texts.queryText ?? null)
        : key === 'items'
          ? (texts.itemsText ?? null)
          : url.searchParams.get(key);
    if (value === null) continue;
    const cap = key === 'items' ? MAX_ITEMS_TEXT : MAX_QUERY_TEXT;
    parts.push(`${key}=${value.length > cap ? `${value.slice(0, cap)}…` : value}`);
  }
  return parts.length > 0 ? parts.join('&') : null;
}
