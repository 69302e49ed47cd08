// One connection: its runs with live progress, its open errors with retry and retry all, and its controls.
import {
  type AuthConnection,
  ago,
  api,
  button,
  connect,
  el,
  main,
  needsReconnect,
  notice,
  POLL_MS,
  progressCell,
  type Run,
  STATUS_HINT,
  type SyncConnection,
  type SyncError,
  session,
  state,
  statusTag,
  table,
} from './kit.js';

export async function connectionView(id: string): Promise<void> {
  const c = await api<SyncConnection>(`sync/connections/${id}`);
  const granted = await api<AuthConnection>(`auth/connections/${id}`).catch(() => undefined);
  const entity = el(
    'select',
    { 'data-test': 'entity', 'aria-label': 'Entity' },
    ...c.entities.map((e) => el('option', { value: e }, e)),
  );
  const act = async (path: string, done: string, body?: unknown) => {
    await api(`sync/connections/${id}/${path}`, { method: 'POST', body: body ?? {} });
    notice(done);
    await session.route();
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
            await session.route();
          },
          'danger',
          'disconnect',
        )
      : null,
    needsReconnect(granted?.status) ? button('Reconnect', connect, '', 'reconnect') : null,
  );
  const runsBox = el('div', { 'data-test': 'runs-box' });
  const errorsBox = el('div', { 'data-test': 'errors-box' });
  // The facts are read again with every poll: the status and freshness move while the page is open.
  const facts = el('dl', { class: 'facts' });
  const showFacts = (now: SyncConnection, grant: AuthConnection | undefined) => {
    const shown = now.paused ? 'paused' : (grant?.status ?? now.status);
    facts.replaceChildren(
      el('dt', {}, 'Org'),
      el('dd', {}, now.orgId),
      el('dt', {}, 'Status'),
      el(
        'dd',
        {},
        statusTag(shown),
        grant?.deactivationReason ? ` ${grant.deactivationReason}` : '',
        STATUS_HINT[shown] ? ` ${STATUS_HINT[shown]}` : '',
      ),
      el('dt', {}, 'Last synced'),
      el('dd', { 'data-test': 'freshness' }, ago(now.lastSyncedAt)),
      el('dt', {}, 'Next sync'),
      el('dd', {}, now.nextSyncAt ?? '—'),
      el('dt', {}, 'Entities'),
      el('dd', {}, now.entities.join(', ')),
    );
  };
  showFacts(c, granted);
  main().replaceChildren(
    el(
      'section',
      {},
      el('p', {}, el('a', { href: '#/connections' }, '← Connections')),
      el('h1', {}, `Realm ${c.realmId}`),
      facts,
      controls,
    ),
    el('section', {}, el('h2', {}, 'Runs'), runsBox),
    el('section', {}, el('h2', {}, 'Open errors'), errorsBox),
  );
  const refresh = async () => {
    const [runs, errors, now, grant] = await Promise.all([
      api<{ runs: Run[] }>(`sync/runs?connectionId=${id}&limit=10`),
      api<{ errors: SyncError[] }>(`sync/errors?connectionId=${id}&state=open&limit=100`),
      api<SyncConnection>(`sync/connections/${id}`),
      api<AuthConnection>(`auth/connections/${id}`).catch(() => undefined),
    ]);
    showFacts(now, grant);
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
  state.poll = window.setInterval(() => {
    refresh().catch((err: unknown) => notice(err instanceof Error ? err.message : String(err), true));
  }, POLL_MS);
}
