// What every page of the console shares: the API types, the one way to call the APIs (the token, from
// sessionStorage, only ever as the Authorization header), and elements built from text and nodes only.

export const TOKEN_KEY = 'qbo-console-token';
export const POLL_MS = 1500;

export interface SyncConnection {
  connectionId: string;
  orgId: string;
  realmId: string;
  status: string;
  entities: string[];
  paused: boolean;
  lastSyncedAt: string | null;
  nextSyncAt: string | null;
  initialLoadPending: boolean;
  intervalMs: number;
}
export interface AuthConnection {
  id: string;
  realmId: string;
  status: string;
  deactivationReason: string | null;
  connectedAt: string;
}
export interface Run {
  id: string;
  status: string;
  mode: string;
  trigger: string;
  entities: string[];
  progress: { pages: number; records: number; estimate: number | null; percent: number | null };
  apiCalls: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number;
  error: { category: string; code: string } | null;
}
export interface SyncError {
  errorId: string;
  kind: string;
  entity: string | null;
  entityId: string | null;
  category: string;
  code: string;
  retryable: boolean;
  remediation: string;
  attempts: number;
  lastSeenAt: string;
  lastRunId: string | null;
  open: boolean;
  /** A record Intuit never showed the Id of, known by its place: a second's records ordered by Id. */
  place: { from: string | null; position: number | null } | null;
}
export interface ApiCall {
  id: string;
  at: string;
  operation: string;
  method: string;
  path: string;
  entity: string | null;
  status: number | null;
  faultCode: string | null;
  intuitTid: string | null;
  traceId: string | null;
  attempt: number;
  durationMs: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    title: string,
  ) {
    super(title);
  }
}

export const main = () => document.getElementById('main') as HTMLElement;
/** The page's shared state: the console's configuration and the view's refresh timer. */
export const state: { config: { jaegerUrl: string | null }; poll: number | undefined } = {
  config: { jaegerUrl: null },
  poll: undefined,
};
/** Set by the router (app.ts): pages sign out and re-route through these, without importing it. */
export const session: { signOut: (message?: string) => void; route: () => Promise<void> } = {
  signOut: () => undefined,
  route: async () => undefined,
};

export const token = () => sessionStorage.getItem(TOKEN_KEY);

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    credentials: 'same-origin',
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    if (res.status === 401) session.signOut('Your session is not valid any more: sign in again.');
    throw new ApiError(res.status, String(body.code ?? 'error'), String(body.title ?? res.statusText));
  }
  return body as T;
}

/** `el('td', {class: 'num'}, 'text', child)`: elements built from text and nodes only. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function button(
  label: string,
  onClick: () => Promise<unknown>,
  cls = '',
  testId = '',
): HTMLButtonElement {
  const b = el(
    'button',
    { type: 'button', ...(cls ? { class: cls } : {}), ...(testId ? { 'data-test': testId } : {}) },
    label,
  );
  b.addEventListener('click', () => {
    b.disabled = true;
    onClick()
      .catch((err: unknown) => notice(err instanceof Error ? err.message : String(err), true))
      .finally(() => {
        b.disabled = false;
      });
  });
  return b;
}

export function notice(text: string, error = false): void {
  const n = document.getElementById('notice') as HTMLElement;
  n.textContent = text;
  n.className = error ? 'notice error' : 'notice';
  n.hidden = text === '';
}

/** Only a dead grant needs the org to reconnect; a degraded one is retried by token-service on its own. */
export const needsReconnect = (status: string | undefined) =>
  status === 'deactivated' || status === 'disconnected';

/** What a status asks of the operator, when it asks anything. */
export const STATUS_HINT: Record<string, string> = {
  degraded: 'Intuit is failing transiently; token-service retries on its own.',
};

export const statusTag = (status: string) =>
  el('span', { class: `status status-${status}`, 'data-test': 'status' }, status);

export function ago(iso: string | null): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export const table = (heads: string[], rows: HTMLTableRowElement[], empty: string, testId: string) =>
  rows.length === 0
    ? el('p', { class: 'muted', 'data-test': `${testId}-empty` }, empty)
    : el(
        'table',
        { 'data-test': testId },
        el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', {}, h)))),
        el('tbody', {}, ...rows),
      );

export function progressCell(run: Run): HTMLElement {
  const p = run.progress;
  const percent = run.status === 'completed' && p.estimate !== null ? 100 : p.percent;
  const label = `${p.records.toLocaleString('en')}${p.estimate === null ? '' : ` / ${p.estimate.toLocaleString('en')}`} records · ${p.pages} ${p.pages === 1 ? 'page' : 'pages'}`;
  return el(
    'td',
    { 'data-test': 'progress' },
    percent === null ? '' : el('progress', { max: '100', value: String(percent) }),
    ' ',
    el('span', { 'data-test': 'percent' }, percent === null ? '' : `${percent} %`),
    el('div', { class: 'muted' }, label),
  );
}

/** Connect or reconnect: auth-service starts the real OAuth flow and the browser goes to Intuit's consent. */
export async function connect(): Promise<void> {
  const { authorizeUrl } = await api<{ authorizeUrl: string }>('auth/connect/quickbooks', {
    method: 'POST',
    body: { returnTo: `${location.origin}/#/connections` },
  });
  location.assign(authorizeUrl);
}
