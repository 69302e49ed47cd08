import { connect } from './demo-connect.js';
import { apiCalls, connectionStatus, counters, type Demo, getJson, post, until } from './demo-kit.js';
import { accessToken, forceRefresh } from './demo-rotation.js';
import type { RecordEvent, RunView } from './demo-sync.js';

/**
 * The customer disconnects the app inside QuickBooks: the grant is dead. The next refresh is refused (and
 * the last-known-good token with it), so token-service deactivates the connection once and auth-service's
 * status view says why, loudly.
 */
export async function revokedDeactivates(d: Demo, connectionId: string, realmId: string): Promise<void> {
  await post(`${d.sim}/_sim/companies/${realmId}/revoke`, {});
  const held = await accessToken(d, connectionId);
  const refused = await forceRefresh(d, connectionId, held.accessToken);
  const problem = (await refused.json()) as { code?: string };
  d.step(
    `Intuit revoked the grant; the next refresh is refused: token-service answers ${refused.status} ${problem.code}`,
  );
  const seen = await until(
    () => connectionStatus(d, connectionId),
    (c) => c.status === 'deactivated',
    'the connection deactivated',
  );
  d.step(
    `!!! CONNECTION DEACTIVATED (${seen.deactivationReason ?? 'no reason given'}): QuickBooks no longer ` +
      'grants access; the org must reconnect. Nothing syncs until it does.',
  );
}

/**
 * While the company is deactivated, it changes in QuickBooks. The org reconnects it; sync-service resumes
 * from its checkpoint: a delta that takes exactly the changes made meanwhile, and no reload (counted at
 * Intuit's side: the Accounting API calls of the catch-up, and no load run).
 */
export async function reconnectResumes(d: Demo, realmId: string, changes = 5): Promise<string> {
  const made: string[] = [];
  for (let i = 1; i <= changes; i++) {
    const c = await post<{ Id: string }>(`${d.sim}/_sim/companies/${realmId}/changes`, {
      op: 'create',
      entity: 'Customer',
      data: { DisplayName: `Made while disconnected ${i} ${Date.now()}` },
    });
    made.push(c.Id);
  }
  await post(`${d.sim}/_sim/webhooks/flush`, {});
  d.step(`customers ${made.join(', ')} were created in QuickBooks while the connection was deactivated`);
  const before = await counters(d);
  const reconnectedAt = Date.now();
  const { connectionId } = await connect(d, realmId);
  const arrived = (all: readonly RecordEvent[]) =>
    made.every((id) => all.some((e) => e.data.entity === 'Customer' && e.data.entityId === id));
  await d.records.until(arrived, 'the changes made while deactivated', 60_000);
  const since = async () =>
    (
      await getJson<{ runs: RunView[] }>(
        `${d.sync}/runs?connectionId=${connectionId}`,
        d.orgBearer,
        'list runs',
      )
    ).runs.filter((r) => Date.parse(r.startedAt) >= reconnectedAt - 1000);
  const runs = await until(
    since,
    (rs) => rs.length > 0 && rs.every((r) => r.status === 'completed'),
    'the catch-up run',
  );
  const after = await counters(d);
  const calls = apiCalls(after, realmId) - apiCalls(before, realmId);
  const cdc = apiCalls(after, realmId, 'cdc') - apiCalls(before, realmId, 'cdc');
  d.figures.catchUpCalls = calls;
  if (runs.some((r) => r.mode === 'initial')) throw new Error('the reconnect reloaded the company');
  d.step(
    `reconnected: sync-service resumed from its checkpoint (${runs.map((r) => r.mode).join(', ')} run), ` +
      `${calls} Accounting API call(s), ${cdc} of them CDC, delivering the ${changes} customers; no reload`,
  );
  return connectionId;
}
