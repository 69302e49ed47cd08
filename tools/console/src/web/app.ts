// The console's page: hash-routed views over sync-service's and auth-service's APIs (through the console's own
// origin). The signed-in token lives in sessionStorage only, goes out only as the Authorization header of those
// calls, and is never written into the page. Everything shown is set as text, never as HTML.

const TOKEN_KEY = 'qbo-console-token';
const POLL_MS = 1500;

interface SyncConnection {
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
interface AuthConnection {
  id: string;
  realmId: string;
  status: string;
  deactivationReason: string | null;
  connectedAt: string;
}
interface Run {
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
interface SyncError {
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
interface ApiCall {
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

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    title: string,
  ) {
    super(title);
  }
}

const main = () => document.getElementById('main') as HTMLElement;
let config: { jaegerUrl: string | null } = { jaegerUrl: null };
let poll: number | undefined;

const token = () => sessionStorage.getItem(TOKEN_KEY);

async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
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
    if (res.status === 401) signOut('Your session is not valid any more: sign in again.');
    throw new ApiError(res.status, String(body.code ?? 'error'), String(body.title ?? res.statusText));
  }
  return body as T;
}

/** `el('td', {class: 'num'}, 'text', child)`: elements built from text and nodes only. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function button(label: string, onClick: () => Promise<unknown>, cls = '', testId = ''): HTMLButtonElement {
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

function notice(text: string, error = false): void {
  const n = document.getElementById('notice') as HTMLElement;
  n.textContent = text;
  n.className = error ? 'notice error' : 'notice';
  n.hidden = text === '';
}

const statusTag = (status: string) =>
  el('span', { class: `status status-${status}`, 'data-test': 'status' }, status);

function ago(iso: string | null): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const table = (heads: string[], rows: HTMLTableRowElement[], empty: string, testId: string) =>
  rows.length === 0
    ? el('p', { class: 'muted', 'data-test': `${testId}-empty` }, empty)
    : el(
        'table',
        { 'data-test': testId },
        el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', {}, h)))),
        el('tbody', {}, ...rows),
      );

function progressCell(run: Run): HTMLElement {
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
async function connect(): Promise<void> {
  const { authorizeUrl } = await api<{ authorizeUrl: string }>('auth/connect/quickbooks', {
    method: 'POST',
    body: { returnTo: `${location.origin}/#/connections` },
  });
  location.assign(authorizeUrl);
}

// ---- views ----------------------------------------------------------------------------------------------

function signInView(message = ''): void {
  const input = el('input', { type: 'password', id: 'token', autocomplete: 'off', 'aria-label': 'Token' });
  const form = el(
    'form',
    { class: 'signin' },
    el('h1', {}, 'Sign in'),
    el('p', {}, 'Paste your organisation or operator token. It is kept for this browser tab only.'),
    input,
    el('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value.trim() === '') return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    location.hash = '#/connections';
    void route();
  });
  main().replaceChildren(el('section', {}, form));
  notice(message, message !== '');
}

async function connectionsView(): Promise<void> {
  const [sync, auth] = await Promise.all([
    api<{ connections: SyncConnection[] }>('sync/connections'),
    api<{ connections: AuthConnection[] }>('auth/connections').catch(() => ({ connections: [] })),
  ]);
  const byId = new Map(auth.connections.map((c) => [c.id, c]));
  const rows = await Promise.all(
    sync.connections.map(async (c) => {
      const [runs, errors] = await Promise.all([
        api<{ runs: Run[] }>(`sync/runs?connectionId=${c.connectionId}&limit=1`),
        api<{ errors: SyncError[]; nextCursor: string | null }>(
          `sync/errors?connectionId=${c.connectionId}&state=open&limit=100`,
        ),
      ]);
      const granted = byId.get(c.connectionId);
      const status = c.paused ? 'paused' : (granted?.status ?? c.status);
      const last = runs.runs[0];
      const reason = granted?.deactivationReason ?? null;
      return el(
        'tr',
        { 'data-test': 'connection', 'data-connection-id': c.connectionId, 'data-realm-id': c.realmId },
        el('td', {}, c.orgId),
        el('td', { class: 'mono' }, el('a', { href: `#/connections/${c.connectionId}` }, c.realmId)),
        el(
          'td',
          {},
          statusTag(status),
          reason ? el('div', { class: 'muted', 'data-test': 'reason' }, reason) : null,
        ),
        el('td', { 'data-test': 'freshness' }, ago(c.lastSyncedAt)),
        el(
          'td',
          { class: 'num', 'data-test': 'open-errors' },
          `${errors.errors.length}${errors.nextCursor ? '+' : ''}`,
        ),
        el(
          'td',
          {},
          last ? `${last.mode} · ${last.status}` : 'none',
          last ? el('div', { class: 'muted' }, ago(last.startedAt)) : null,
        ),
        el(
          'td',
          {},
          status === 'active' || status === 'paused' || granted === undefined
            ? null
            : button('Reconnect', connect, '', 'reconnect'),
        ),
      );
    }),
  );
  main().replaceChildren(
    el(
      'section',
      {},
      el(
        'div',
        { class: 'actions' },
        el('h1', {}, 'Connections'),
        button('Connect QuickBooks', connect, 'primary', 'connect'),
      ),
      table(
        ['Org', 'Realm', 'Status', 'Last synced', 'Open errors', 'Last run', ''],
        rows,
        'No QuickBooks company is connected yet.',
        'connections',
      ),
    ),
  );
}

async function connectionView(id: string): Promise<void> {
  const c = await api<SyncConnection>(`sync/connections/${id}`);
  const granted = await api<AuthConnection>(`auth/connections/${id}`).catch(() => undefined);
  const status = c.paused ? 'paused' : (granted?.status ?? c.status);
  const entity = el(
    'select',
    { 'data-test': 'entity', 'aria-label': 'Entity' },
    ...c.entities.map((e) => el('option', { value: e }, e)),
  );
  const act = async (path: string, done: string, body?: unknown) => {
    await api(`sync/connections/${id}/${path}`, { method: 'POST', body: body ?? {} });
    notice(done);
    await route();
  };
  const controls = el(
    'div',
    { class: 'actions' },
    c.paused
      ? button('Resume', () => act('resume', 'Sync resumed.'), 'primary', 'resume')
      : button('Pause', () => act('pause', 'Sync paused.'), '', 'pause'),
    button('Sync now', () => act('sync', 'A sync was asked for.', { mode: 'incremental' }), '', 'sync'),
    entity,
    button(
      'Resync entity',
      () =>
        act('sync', `A full resync of ${entity.value} was asked for.`, {
          mode: 'full',
          entity: entity.value,
        }),
      '',
      'resync',
    ),
    granted && granted.status !== 'disconnected'
      ? button(
          'Disconnect',
          async () => {
            if (!confirm(`Disconnect realm ${c.realmId}? The grant is revoked at Intuit.`)) return;
            await api(`auth/connections/${id}`, { method: 'DELETE' });
            notice('Disconnected.');
            await route();
          },
          'danger',
          'disconnect',
        )
      : null,
    granted && granted.status !== 'active' ? button('Reconnect', connect, '', 'reconnect') : null,
  );
  const runsBox = el('div', { 'data-test': 'runs-box' });
  const errorsBox = el('div', { 'data-test': 'errors-box' });
  main().replaceChildren(
    el(
      'section',
      {},
      el('p', {}, el('a', { href: '#/connections' }, '← Connections')),
      el('h1', {}, `Realm ${c.realmId}`),
      el(
        'dl',
        { class: 'facts' },
        el('dt', {}, 'Org'),
        el('dd', {}, c.orgId),
        el('dt', {}, 'Status'),
        el('dd', {}, statusTag(status), granted?.deactivationReason ? ` ${granted.deactivationReason}` : ''),
        el('dt', {}, 'Last synced'),
        el('dd', { 'data-test': 'freshness' }, ago(c.lastSyncedAt)),
        el('dt', {}, 'Next sync'),
        el('dd', {}, c.nextSyncAt ?? '—'),
        el('dt', {}, 'Entities'),
        el('dd', {}, c.entities.join(', ')),
      ),
      controls,
    ),
    el('section', {}, el('h2', {}, 'Runs'), runsBox),
    el('section', {}, el('h2', {}, 'Open errors'), errorsBox),
  );
  const refresh = async () => {
    const [runs, errors] = await Promise.all([
      api<{ runs: Run[] }>(`sync/runs?connectionId=${id}&limit=10`),
      api<{ errors: SyncError[] }>(`sync/errors?connectionId=${id}&state=open&limit=100`),
    ]);
    runsBox.replaceChildren(
      table(
        ['Started', 'Mode', 'Trigger', 'Status', 'Progress', 'API calls', 'Duration', ''],
        runs.runs.map((r) =>
          el(
            'tr',
            { 'data-test': 'run', 'data-run-id': r.id, 'data-status': r.status, 'data-mode': r.mode },
            el('td', {}, ago(r.startedAt)),
            el('td', {}, r.mode),
            el('td', {}, r.trigger),
            el(
              'td',
              {},
              statusTag(r.status),
              r.error ? el('div', { class: 'muted' }, `${r.error.category} ${r.error.code}`) : null,
            ),
            progressCell(r),
            el('td', { class: 'num', 'data-test': 'api-calls' }, String(r.apiCalls)),
            el('td', { class: 'num' }, `${(r.durationMs / 1000).toFixed(1)} s`),
            el('td', {}, el('a', { href: `#/runs/${r.id}` }, 'API calls')),
          ),
        ),
        'No run yet.',
        'runs',
      ),
    );
    const runIds = [
      ...new Set(errors.errors.filter((e) => e.retryable && e.lastRunId).map((e) => e.lastRunId as string)),
    ];
    errorsBox.replaceChildren(
      runIds.length === 0
        ? ''
        : el(
            'div',
            { class: 'actions' },
            button(
              'Retry all',
              async () => {
                for (const runId of runIds) await api(`sync/runs/${runId}/retry-errors`, { method: 'POST' });
                notice('A retry of every open error was asked for.');
              },
              '',
              'retry-all',
            ),
          ),
      table(
        ['Record', 'Category', 'Code', 'Remediation', 'Attempts', 'Last seen', ''],
        errors.errors.map((e) =>
          el(
            'tr',
            { 'data-test': 'error', 'data-error-id': e.errorId, 'data-entity-id': e.entityId ?? '' },
            el(
              'td',
              {},
              e.entity ?? e.kind,
              e.entityId
                ? el('div', { class: 'mono' }, `Id ${e.entityId}`)
                : e.place
                  ? el(
                      'div',
                      { class: 'muted' },
                      `no Id: record ${e.place.position ?? '?'} changed at ${e.place.from ?? '?'}`,
                    )
                  : null,
            ),
            el('td', {}, e.category),
            el('td', { class: 'mono' }, e.code),
            el('td', { 'data-test': 'remediation' }, e.remediation),
            el('td', { class: 'num' }, String(e.attempts)),
            el('td', {}, ago(e.lastSeenAt)),
            el(
              'td',
              {},
              e.kind === 'record' && e.retryable
                ? button(
                    'Retry',
                    async () => {
                      await api(`sync/errors/${e.errorId}/retry`, { method: 'POST' });
                      notice(`A retry of ${e.entity ?? 'the record'} ${e.entityId ?? ''} was asked for.`);
                    },
                    '',
                    'retry',
                  )
                : null,
            ),
          ),
        ),
        'No open error.',
        'errors',
      ),
    );
  };
  await refresh();
  poll = window.setInterval(() => {
    refresh().catch((err: unknown) => notice(err instanceof Error ? err.message : String(err), true));
  }, POLL_MS);
}

/** The call's trace in Jaeger: by its trace id when the call was traced, else a search by Intuit's tid. */
function jaegerLink(call: ApiCall): HTMLElement | string {
  if (!config.jaegerUrl) return '';
  const tags = encodeURIComponent(JSON.stringify({ 'qbo.intuit_tid': call.intuitTid }));
  const href = call.traceId
    ? `${config.jaegerUrl}/trace/${encodeURIComponent(call.traceId)}`
    : call.intuitTid
      ? `${config.jaegerUrl}/search?service=sync-service&tags=${tags}`
      : undefined;
  if (!href) return '';
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer', 'data-test': 'trace' }, 'trace');
}

async function runView(runId: string): Promise<void> {
  const run = await api<Run & { connectionId: string; realmId: string }>(`sync/runs/${runId}`);
  const { calls } = await api<{ calls: ApiCall[] }>(`sync/runs/${runId}/api-calls?limit=200`);
  main().replaceChildren(
    el(
      'section',
      {},
      el('p', {}, el('a', { href: `#/connections/${run.connectionId}` }, `← Realm ${run.realmId}`)),
      el('h1', {}, `Run ${run.mode} · ${run.status}`),
      el(
        'p',
        { class: 'muted' },
        `${run.apiCalls} API calls · ${run.progress.records} records · started ${ago(run.startedAt)}`,
      ),
      table(
        ['At', 'Operation', 'Request', 'Status', 'intuit_tid', 'Attempt', 'Duration', ''],
        calls.map((call) =>
          el(
            'tr',
            { 'data-test': 'call' },
            el('td', {}, new Date(call.at).toLocaleTimeString('en-GB')),
            el('td', {}, call.operation, call.entity ? el('div', { class: 'muted' }, call.entity) : null),
            el('td', { class: 'mono' }, `${call.method} ${call.path}`),
            el(
              'td',
              { class: 'num', 'data-test': 'call-status' },
              call.status === null ? 'no answer' : String(call.status),
              call.faultCode ? ` (${call.faultCode})` : '',
            ),
            el('td', { class: 'mono', 'data-test': 'intuit-tid' }, call.intuitTid ?? '—'),
            el('td', { class: 'num' }, String(call.attempt)),
            el('td', { class: 'num' }, `${call.durationMs} ms`),
            el('td', {}, jaegerLink(call)),
          ),
        ),
        'This run made no API call.',
        'calls',
      ),
    ),
  );
}

// ---- routing and session --------------------------------------------------------------------------------

function signOut(message = ''): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (poll !== undefined) window.clearInterval(poll);
  (document.getElementById('sign-out') as HTMLElement).hidden = true;
  (document.getElementById('who') as HTMLElement).textContent = '';
  history.replaceState(null, '', '/#/sign-in');
  signInView(message);
}

/** The signed-in principal, read from the token's claims (shown: org and role, never the token). */
function whoAmI(t: string): string {
  try {
    const part = t.split('.')[1] ?? '';
    const claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as {
      org_id?: string;
      role?: string;
    };
    return `${claims.org_id ?? '?'}${claims.role === 'operator' ? ' · operator' : ''}`;
  } catch {
    return 'signed in';
  }
}

/**
 * A sign-in link carries the token in the fragment (never sent to a server): take it, then drop it from the
 * address bar and the history. Only into a console nobody is signed in to: any site can link here, and a link
 * that silently replaced a session would have its owner connect their company to the link's org.
 */
function takeTokenFromLink(): void {
  const fromLink = /^#token=([^&]+)/.exec(location.hash);
  if (!fromLink?.[1]) return;
  history.replaceState(null, '', '/#/connections');
  if (token()) {
    notice('Already signed in: sign out first to use a sign-in link.', true);
    return;
  }
  try {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromLink[1]));
  } catch {
    notice('That sign-in link is malformed.', true);
  }
}

async function route(): Promise<void> {
  if (poll !== undefined) window.clearInterval(poll);
  poll = undefined;
  takeTokenFromLink();
  const t = token();
  if (!t) return signInView();
  (document.getElementById('who') as HTMLElement).textContent = whoAmI(t);
  (document.getElementById('sign-out') as HTMLElement).hidden = false;
  const hash = location.hash.replace(/^#/, '');
  const parts = hash.split('/').filter(Boolean);
  try {
    if (parts[0] === 'connections' && parts[1]) await connectionView(parts[1]);
    else if (parts[0] === 'runs' && parts[1]) await runView(parts[1]);
    else {
      await connectionsView();
      // A company just connected reaches sync-service through its event a moment later: keep the list fresh.
      poll = window.setInterval(() => {
        connectionsView().catch((err: unknown) =>
          notice(err instanceof Error ? err.message : String(err), true),
        );
      }, POLL_MS * 2);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    const text =
      err instanceof ApiError && err.status === 404
        ? 'Not found.'
        : err instanceof Error
          ? err.message
          : String(err);
    main().replaceChildren(
      el(
        'section',
        { 'data-test': 'not-found' },
        el('h1', {}, text),
        el('a', { href: '#/connections' }, '← Connections'),
      ),
    );
  }
}

async function start(): Promise<void> {
  config = await fetch('/config.json')
    .then((r) => r.json() as Promise<typeof config>)
    .catch(() => config);
  document.getElementById('sign-out')?.addEventListener('click', () => signOut());
  window.addEventListener('hashchange', () => {
    notice('');
    void route();
  });
  // Back from a connect flow: auth-service names its outcome in the query; say it once and drop it.
  const outcome = new URLSearchParams(location.search);
  await route();
  if (outcome.get('status') === 'connected') notice('QuickBooks company connected.');
  else if (outcome.get('status') === 'error')
    notice(`The connection failed: ${outcome.get('error') ?? 'unknown error'}.`, true);
  if (location.search !== '') history.replaceState(null, '', `/${location.hash}`);
}

void start();
