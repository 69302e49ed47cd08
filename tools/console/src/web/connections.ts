// The connections page: every company of the caller (every org's for an operator) with its status as
// auth-service's status view has it (active, degraded, deactivated with its reason) or paused.
import {
  type AuthConnection,
  ago,
  api,
  button,
  connect,
  el,
  main,
  needsReconnect,
  type Run,
  STATUS_HINT,
  type SyncConnection,
  type SyncError,
  statusTag,
  table,
} from './kit.js';

export async function connectionsView(): Promise<void> {
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
          STATUS_HINT[status]
            ? el('div', { class: 'muted', 'data-test': 'hint' }, STATUS_HINT[status])
            : null,
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
        el('td', {}, needsReconnect(granted?.status) ? button('Reconnect', connect, '', 'reconnect') : null),
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
