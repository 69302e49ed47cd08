// One run: its calls to the Accounting API, with status, intuit_tid and a link to the trace in Jaeger.
import { type ApiCall, ago, api, el, main, type Run, state, table } from './kit.js';

/** The call's trace in Jaeger: by its trace id when the call was traced, else a search by Intuit's tid. */
function jaegerLink(call: ApiCall): HTMLElement | string {
  if (!state.config.jaegerUrl) return '';
  const tags = encodeURIComponent(JSON.stringify({ 'qbo.intuit_tid': call.intuitTid }));
  const href = call.traceId
    ? `${state.config.jaegerUrl}/trace/${encodeURIComponent(call.traceId)}`
    : call.intuitTid
      ? `${state.config.jaegerUrl}/search?service=sync-service&tags=${tags}`
      : undefined;
  if (!href) return '';
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer', 'data-test': 'trace' }, 'trace');
}

export async function runView(runId: string): Promise<void> {
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
