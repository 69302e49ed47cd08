import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readToEnd, waitFor } from '@qbo/testkit';
import type { Browser, Page } from 'playwright-core';
import {
  connectThroughConsent,
  launchBrowser,
  type StackUnderTest,
  screenshot,
  sim,
  startStack,
} from './testing/stack.js';

interface RecordEvent {
  type: string;
  data: { realmId: string; entity: string; entityId: string; source?: { runId?: string } };
}

/** A run row as the console shows it. */
const runRow = (page: Page, mode: string, status: string) =>
  page.locator(`[data-test=run][data-mode=${mode}][data-status=${status}]`);

describe('the operator console in a real browser', () => {
  let stack: StackUnderTest;
  /** The realm's Accounting API calls as the simulator counted them, or one endpoint's. */
  const callsAt = async (realmId: string, only?: readonly string[]) =>
    Object.entries(
      (await sim<Record<string, Record<string, { calls?: number }>>>(stack.simUrl, 'GET', '/counters'))[
        realmId
      ] ?? {},
    )
      .filter(([endpoint]) =>
        only ? only.includes(endpoint) : endpoint !== 'token' && endpoint !== 'userinfo',
      )
      .reduce((n, [, e]) => n + (e.calls ?? 0), 0);
  let browser: Browser;
  before(
    async () => {
      stack = await startStack();
      browser = await launchBrowser();
    },
    { timeout: 180_000 },
  );
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('connects a company through the consent page, follows the load to 100 %, shows a change, retries a poisoned record and then two with retry all, resyncs one entity, pauses and resumes, shows a degraded connection recover, disconnects — each claim counted at the simulator, the tables and the topic', {
    timeout: 300_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text());
    });

    // Signed out: the sign-in page.
    await page.goto(`${stack.consoleUrl}/`);
    await page.waitForSelector('#token');
    await screenshot(page, '01-sign-in');

    // The sign-in link: the token leaves the address bar at once; an empty list.
    await page.goto(stack.signInUrl);
    await page.waitForSelector('[data-test=connections-empty]');
    assert.equal(new URL(page.url()).hash, '#/connections');
    await screenshot(page, '02-connections-empty');

    // Connect: the console starts auth-service's flow, the simulator's consent page picks a company.
    const realmId = await connectThroughConsent(page, '03-consent');
    const row = page.locator(`[data-test=connection][data-realm-id="${realmId}"]`);
    const connectionId = String(await row.getAttribute('data-connection-id'));
    const [granted] = await stack.query<{ status: string; org_id: string }>(
      'select status, org_id from auth.connection where id = $1',
      [connectionId],
    );
    assert.deepEqual(granted, { status: 'active', org_id: 'local-operator' }, 'auth-service holds the grant');

    // The initial load, live, to 100 %.
    await row.locator('a').click();
    const load = runRow(page, 'initial', 'completed');
    await load.waitFor({ timeout: 120_000 });
    assert.equal(await load.locator('[data-test=percent]').textContent(), '100 %');
    await screenshot(page, '04-connection-loaded');

    // What the browser claims about the load, counted where it happened.
    const loadRunId = String(await load.getAttribute('data-run-id'));
    const shownRecords = Number(
      /^([\d,]+)/
        .exec((await load.locator('[data-test=progress] .muted').textContent()) ?? '')?.[1]
        ?.replace(/,/g, ''),
    );
    const shownCalls = Number(await load.locator('[data-test=api-calls]').textContent());
    const [run] = await stack.query<{ upserted: number; api_calls: number }>(
      'select upserted, api_calls from sync.sync_run where run_id = $1',
      [loadRunId],
    );
    assert.equal(shownRecords, run?.upserted, 'the records shown are the run row’s');
    assert.equal(shownCalls, run?.api_calls, 'the calls shown are the run row’s');
    const companies = await sim<{ realmId: string; counts: Record<string, number> }[]>(
      stack.simUrl,
      'GET',
      '/companies',
    );
    const [target] = await stack.query<{ entities: string[] }>(
      'select entities from sync.sync_target where connection_id = $1',
      [connectionId],
    );
    const atIntuit = (target?.entities ?? []).reduce(
      (sum, e) => sum + (companies.find((c) => c.realmId === realmId)?.counts[e] ?? 0),
      0,
    );
    assert.equal(shownRecords, atIntuit, 'every record the company holds at Intuit was loaded');
    const published = (await readToEnd(`${stack.topicPrefix}qbo.records.v1`))
      .map(({ message }) => JSON.parse(String(message.value)) as RecordEvent)
      .filter((e) => e.data.source?.runId === loadRunId);
    assert.equal(published.length, shownRecords, 'one record event on the topic per record shown');
    const counters = await sim<Record<string, Record<string, { calls?: number }>>>(
      stack.simUrl,
      'GET',
      '/counters',
    );
    const callsAtIntuit = Object.values(counters[realmId] ?? {}).reduce((s, e) => s + (e.calls ?? 0), 0);
    assert.ok(
      callsAtIntuit >= shownCalls,
      `the simulator served the calls shown (${callsAtIntuit} ≥ ${shownCalls})`,
    );

    // The load's API calls: status and intuit_tid per call, a trace link each.
    await load.locator('a', { hasText: 'API calls' }).click();
    await page.waitForSelector('[data-test=calls]');
    const callRows = page.locator('[data-test=call]');
    assert.equal(await callRows.count(), shownCalls, 'one row per call of the run');
    const firstTid = (await callRows.first().locator('[data-test=intuit-tid]').textContent()) ?? '';
    assert.match(firstTid, /\S{6,}/, 'the call names Intuit’s transaction id');
    const trace = String(await callRows.first().locator('[data-test=trace]').getAttribute('href'));
    // The call's own trace when it was traced (its qbo_api_log trace id), else a search by Intuit's tid.
    assert.ok(
      /^http:\/\/127\.0\.0\.1:16686\/trace\/[0-9a-f]{32}$/.test(trace) ||
        (trace.startsWith('http://127.0.0.1:16686/search?') && trace.includes(encodeURIComponent(firstTid))),
      trace,
    );
    await screenshot(page, '05-run-api-calls');
    await page.goBack();

    // A change made in QuickBooks appears: a new customer arrives with a delta run.
    const created = await sim<{ Id: string }>(stack.simUrl, 'POST', `/companies/${realmId}/changes`, {
      op: 'create',
      entity: 'Customer',
      data: { DisplayName: 'Console Test Customer' },
    });
    const customerId = String(created.Id);
    await waitFor(
      async () =>
        (
          await stack.query('select 1 from sync.mirror_record where realm_id = $1 and entity_id = $2', [
            realmId,
            customerId,
          ])
        ).length === 1,
      { timeoutMs: 60_000, what: 'the new customer mirrored' },
    );
    const [delta] = await stack.query<{ run_id: string }>(
      `select run_id::text from sync.sync_run where realm_id = $1 and mode = 'cdc' and upserted > 0
        order by started_at desc limit 1`,
      [realmId],
    );
    await page.locator(`[data-test=run][data-run-id="${delta?.run_id}"][data-status=completed]`).waitFor();
    await screenshot(page, '06-change-arrived');

    // A poisoned record: the next change to it fails; its error row carries the remediation; retry it there.
    const [victim] = await stack.query<{ entity_id: string }>(
      `select entity_id from sync.mirror_record where realm_id = $1 and entity = 'Customer' and entity_id <> $2
        order by entity_id limit 1`,
      [realmId, customerId],
    );
    const victimId = String(victim?.entity_id);
    await sim(stack.simUrl, 'POST', '/faults', {
      kind: 'poison',
      realmId,
      entity: 'Customer',
      recordId: victimId,
      code: '4002',
    });
    await sim(stack.simUrl, 'POST', `/companies/${realmId}/changes`, {
      op: 'update',
      entity: 'Customer',
      id: victimId,
      data: { DisplayName: 'Poisoned Customer' },
    });
    const errorRow = page.locator(`[data-test=error][data-entity-id="${victimId}"]`);
    await errorRow.waitFor({ timeout: 60_000 });
    assert.ok(((await errorRow.locator('[data-test=remediation]').textContent()) ?? '').length > 10);
    await screenshot(page, '07-poisoned-record');
    const errorId = String(await errorRow.getAttribute('data-error-id'));
    await sim(stack.simUrl, 'DELETE', '/faults');
    const before = Object.values(
      (await sim<Record<string, Record<string, { calls?: number }>>>(stack.simUrl, 'GET', '/counters'))[
        realmId
      ] ?? {},
    ).reduce((s, e) => s + (e.calls ?? 0), 0);
    await errorRow.locator('[data-test=retry]').click();
    await errorRow.waitFor({ state: 'detached', timeout: 60_000 });
    const [closed] = await stack.query<{ resolved_by: string | null }>(
      'select resolved_by from sync.sync_error where error_id = $1',
      [errorId],
    );
    assert.equal(closed?.resolved_by, 'retry', 'the row the browser retried is closed by the retry');
    const afterRetry = Object.values(
      (await sim<Record<string, Record<string, { calls?: number }>>>(stack.simUrl, 'GET', '/counters'))[
        realmId
      ] ?? {},
    ).reduce((s, e) => s + (e.calls ?? 0), 0);
    assert.ok(afterRetry > before, 'the retry read the record again at Intuit');
    await screenshot(page, '08-error-retried');

    // Two more poisoned records, retried together with "Retry all": both rows closed in the table, and each
    // read again at Intuit.
    const [, ...others] = await stack.query<{ entity_id: string }>(
      `select entity_id from sync.mirror_record where realm_id = $1 and entity = 'Customer'
        and entity_id not in ($2, $3) order by entity_id limit 3`,
      [realmId, customerId, victimId],
    );
    const pair = others.map((o) => String(o.entity_id));
    for (const id of pair) {
      await sim(stack.simUrl, 'POST', '/faults', {
        kind: 'poison',
        realmId,
        entity: 'Customer',
        recordId: id,
        code: '4002',
      });
      await sim(stack.simUrl, 'POST', `/companies/${realmId}/changes`, {
        op: 'update',
        entity: 'Customer',
        id,
        data: { DisplayName: `Poisoned Customer ${id}` },
      });
    }
    for (const id of pair)
      await page.locator(`[data-test=error][data-entity-id="${id}"]`).waitFor({ timeout: 60_000 });
    await sim(stack.simUrl, 'DELETE', '/faults');
    const beforeAll = await callsAt(realmId);
    await page.click('[data-test=retry-all]');
    for (const id of pair)
      await page
        .locator(`[data-test=error][data-entity-id="${id}"]`)
        .waitFor({ state: 'detached', timeout: 60_000 });
    const retriedAll = await stack.query<{ entity_id: string; resolved_at: Date | null }>(
      `select entity_id, resolved_at from sync.sync_error where realm_id = $1 and entity_id = any($2::text[])`,
      [realmId, pair],
    );
    assert.deepEqual(
      retriedAll
        .filter((r) => r.resolved_at !== null)
        .map((r) => r.entity_id)
        .sort(),
      [...pair].sort(),
      'both rows closed in the table',
    );
    assert.ok((await callsAt(realmId)) >= beforeAll + 2, 'each record read again at Intuit');

    // A resync of one entity: a run of that entity alone, completed, its calls served by the simulator.
    const resyncAsked = new Date();
    // Its calls: the count (a `/batch` call) and the pages (queries).
    const beforeResync = await callsAt(realmId, ['query', 'batch']);
    await page.selectOption('[data-test=entity]', 'Customer');
    await page.click('[data-test=resync]');
    let resync: { run_id: string; entities: string[]; api_calls: number } | undefined;
    await waitFor(
      async () => {
        [resync] = await stack.query<{ run_id: string; entities: string[]; api_calls: number }>(
          `select run_id::text, entities, api_calls from sync.sync_run
            where connection_id = $1 and started_at >= $2 and status = 'completed' and entities = '{Customer}'`,
          [connectionId, resyncAsked],
        );
        return resync !== undefined;
      },
      { timeoutMs: 60_000, what: 'the resync of Customer completed' },
    );
    await page.locator(`[data-test=run][data-run-id="${resync?.run_id}"][data-status=completed]`).waitFor();
    assert.ok(
      (await callsAt(realmId, ['query', 'batch'])) - beforeResync >= Number(resync?.api_calls),
      'the resync read the customers again at Intuit',
    );

    // Pause and resume, as the table records them.
    const pausedAt = async () =>
      (
        await stack.query<{ paused_at: Date | null }>(
          'select paused_at from sync.sync_target where connection_id = $1',
          [connectionId],
        )
      )[0]?.paused_at ?? null;
    await page.click('[data-test=pause]');
    await page.locator('[data-test=resume]').waitFor();
    assert.equal(await page.locator('dl.facts [data-test=status]').textContent(), 'paused');
    assert.notEqual(await pausedAt(), null, 'paused in the table');
    await screenshot(page, '09-paused');
    await page.click('[data-test=resume]');
    await page.locator('[data-test=pause]').waitFor();
    assert.equal(await pausedAt(), null, 'resumed in the table');

    // The connections list: status, freshness, open errors, last run.
    await page.click('a.brand');
    await row.waitFor();
    assert.equal(await row.locator('[data-test=status]').textContent(), 'active');

    // Intuit's token endpoint fails transiently while a token is refused: token-service degrades the
    // connection (ConnectionDegraded), the list shows it from auth-service's status view, and it recovers.
    await sim(stack.simUrl, 'POST', '/faults', { kind: '503', endpoint: 'token' });
    await sim(stack.simUrl, 'POST', '/tokens/expire', { realmId });
    await fetch(`${stack.consoleUrl}/api/sync/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.token('local-operator', true)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ mode: 'incremental' }),
    });
    await page.waitForSelector(`[data-test=connection][data-realm-id="${realmId}"] .status-degraded`, {
      timeout: 60_000,
    });
    const [degraded] = await stack.query<{ status: string }>(
      'select status from auth.connection where id = $1',
      [connectionId],
    );
    assert.equal(degraded?.status, 'degraded', 'the status shown is auth-service’s');
    // Degraded needs nothing of the org: no reconnect is offered, and the row says token-service retries.
    assert.equal(await row.locator('[data-test=reconnect]').count(), 0, 'no reconnect for a degraded grant');
    assert.match((await row.locator('[data-test=hint]').textContent()) ?? '', /retries on its own/);
    await screenshot(page, '10-degraded');
    await sim(stack.simUrl, 'DELETE', '/faults');
    await page.waitForSelector(`[data-test=connection][data-realm-id="${realmId}"] .status-active`, {
      timeout: 60_000,
    });
    // The open errors shown are the table's (a run while the record was poisoned, or during the token
    // endpoint's outage, may have added its own; the list is polled, so both are read until they agree).
    let shown = '';
    let counted = '';
    await waitFor(
      async () => {
        const [open] = await stack.query<{ n: number }>(
          `select count(*)::int as n from sync.sync_error
            where org_id = 'local-operator' and realm_id = $1 and resolved_at is null`,
          [realmId],
        );
        counted = String(open?.n);
        shown = (await row.locator('[data-test=open-errors]').textContent()) ?? '';
        return shown === counted;
      },
      { timeoutMs: 20_000, what: 'the open errors shown to match the table' },
    ).catch(() => assert.equal(shown, counted, 'the open errors shown are the table’s'));
    await screenshot(page, '11-connections');

    // Disconnect: revoked at Intuit through auth-service; the list shows it and offers a reconnect.
    await row.locator('a').click();
    page.once('dialog', (d) => void d.accept());
    await page.click('[data-test=disconnect]');
    await page.locator('[data-test=reconnect]').waitFor();
    const [gone] = await stack.query<{ status: string }>('select status from auth.connection where id = $1', [
      connectionId,
    ]);
    assert.equal(gone?.status, 'disconnected');
    await page.click('a.brand');
    await row.locator('[data-test=reconnect]').waitFor({ timeout: 30_000 });
    await screenshot(page, '12-disconnected');

    assert.deepEqual(problems, [], 'no script error and no CSP violation on any page');
    await context.close();
  });
});
