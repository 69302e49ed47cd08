import { connectionStatus, counters, type Demo, getJson, post, until } from './demo-kit.js';
import { accessToken, forceRefresh } from './demo-rotation.js';

/** How long Intuit is down, on its own clock (the simulator's, advanced while the outage lasts). */
const OUTAGE_MS = 3 * 60_000;

interface VaultStatus {
  status: string;
  nextRefreshAt: string | null;
  degradedSince: string | null;
}

/**
 * Intuit goes down (every endpoint answers 503) for a few minutes of its clock. A refresh meets it, so
 * token-service marks the connection degraded once (ConnectionDegraded, which auth-service's status view
 * shows), backs off and tries again on its own schedule, failing transiently each time; once Intuit is back,
 * its next attempt succeeds and the connection recovers (ConnectionRecovered). At no point is it deactivated.
 */
export async function survivesOutage(d: Demo, connectionId: string, realmId: string): Promise<void> {
  const tokenFailures = async () => (await counters(d))[realmId]?.token?.statuses?.['503'] ?? 0;
  const vault = () =>
    getJson<VaultStatus>(
      `${d.tokens}/internal/connections/${connectionId}/status`,
      d.operatorBearer,
      'read the credential status',
    );
  const clock = () => getJson<{ now: number }>(`${d.sim}/_sim/clock`, undefined, 'read Intuit’s clock');
  const began = (await clock()).now;
  const startedHere = Date.now();
  const fault = await post<{ id: number }>(`${d.sim}/_sim/faults`, { kind: '503' });
  d.step('Intuit is down: every endpoint answers 503');

  // The Accounting API refuses the held token, so the caller asks for a refresh, which meets the outage.
  const held = await accessToken(d, connectionId);
  const refused = await forceRefresh(d, connectionId, held.accessToken);
  const problem = (await refused.json()) as { code?: string };
  d.step(`a forced refresh meets the outage: token-service answers ${refused.status} ${problem.code}`);
  const degraded = await until(
    () => connectionStatus(d, connectionId),
    (c) => c.status === 'degraded',
    'the connection degraded in auth-service’s status view',
  );
  d.step(`ConnectionDegraded: auth-service shows the connection ${degraded.status}; token-service backs off`);

  // The outage lasts until Intuit's clock has moved on by OUTAGE_MS and token-service has tried again on its
  // own at least once, and failed, without giving up on the connection.
  const firstFailures = await tokenFailures();
  let advanced = 0;
  await until(
    async () => {
      if (advanced < OUTAGE_MS) {
        await post(`${d.sim}/_sim/clock`, { advanceMs: 15_000 });
        advanced += 15_000;
      }
      return { failures: await tokenFailures(), status: (await vault()).status };
    },
    ({ failures, status }) => {
      if (status !== 'degraded') throw new Error(`token-service shows ${status} during the outage`);
      return advanced >= OUTAGE_MS && failures > firstFailures;
    },
    'token-service’s own retry during the outage',
    180_000,
    500,
  );
  await fetch(`${d.sim}/_sim/faults/${fault.id}`, { method: 'DELETE' });
  const minutes = ((await clock()).now - began) / 60_000;
  d.step(
    `Intuit is back after ${minutes.toFixed(1)} minutes of its clock (${Math.round((Date.now() - startedHere) / 1000)} s ` +
      `here); token-service failed ${await tokenFailures()} refreshes meanwhile, and kept the connection`,
  );

  // The next scheduled attempt succeeds.
  const recovered = await until(
    async () => ({ auth: await connectionStatus(d, connectionId), vault: await vault() }),
    (s) => s.auth.status === 'active' && s.vault.status === 'active',
    'the connection recovered',
    120_000,
    500,
  );
  d.figures.outageAttempts = await tokenFailures();
  d.step(
    `ConnectionRecovered: token-service refreshed on its own schedule; auth-service shows ` +
      `${recovered.auth.status}, never deactivated`,
  );
}
