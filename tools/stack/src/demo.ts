import { changeArrives } from './demo-change.js';
import { connect } from './demo-connect.js';
import { apiCalls, counters, type Demo, demoOf, post } from './demo-kit.js';
import { survivesOutage } from './demo-outage.js';
import { armPoison, poisonRetried } from './demo-poison.js';
import { pushCreates } from './demo-push.js';
import { reconnectResumes, revokedDeactivates } from './demo-revoke.js';
import { forcedRotation } from './demo-rotation.js';
import { followInitialSync, type RecordEvent, watchRecords } from './demo-sync.js';
import type { StackSecrets } from './secrets.js';
import type { StackPorts } from './services.js';

export interface DemoStack {
  ports: StackPorts;
  secrets: StackSecrets;
  /** The platform database. */
  databaseUrl: string;
  brokers: string;
  /** The seeded company's size: 20,000 records unless told (the image run uses a smaller one). */
  records?: number;
}

/**
 * The story the local stack tells end to end, over real HTTP and Kafka, the simulator playing Intuit: an org
 * connects a seeded company; the initial sync, with its progress and the calls it used against Intuit's
 * budget; changes in QuickBooks reaching a downstream consumer, timed; a forced token rotation; an Intuit
 * outage survived (degraded, then recovered, never deactivated); a poison record reported and retried; a
 * push creating a record in QuickBooks; a revoked grant deactivating the connection; a reconnect resuming
 * from the checkpoint. It ends with the figures. No token is printed.
 */
export async function runDemo(stack: DemoStack, print: (line: string) => void): Promise<void> {
  const orgId = `demo-org-${Date.now().toString(36)}`;
  // Watching from before the connect, as a downstream consumer would, so no record event is missed.
  const records = await watchRecords(stack.brokers, orgId);
  const d = await demoOf(stack.ports, stack.secrets, {
    orgId,
    brokers: stack.brokers,
    databaseUrl: stack.databaseUrl,
    records,
    step: (line) => print(`[demo] ${line}`),
  });
  try {
    await tellStory(d, stack.records ?? 20_000);
  } finally {
    await records.stop();
  }
}

async function tellStory(d: Demo, size: number): Promise<void> {
  const chapter = (title: string) => d.step(`── ${title}`);
  const started = Date.now();

  chapter(`1. connect a company of ${size.toLocaleString('en')} records`);
  // A company of its own in QuickBooks, which the consent will pick: each run tells the story afresh, on the
  // same data (a fixed seed; the simulator avoids realm ids in use). One of its customers Intuit cannot read.
  const seeded = await post<{ realmIds: string[] }>(`${d.sim}/_sim/seed`, {
    seed: 2026,
    companies: 1,
    records: size,
  });
  const realmId = String(seeded.realmIds[0]);
  const poison = await armPoison(d, realmId);
  const { connectionId } = await connect(d, realmId);

  chapter('2. the initial sync');
  const load = await followInitialSync(d, connectionId, realmId);
  const ofLoad = (events: readonly RecordEvent[]) =>
    events.filter((e) => e.data.realmId === realmId && e.data.source?.runId === load.run.id).length;
  const published = ofLoad(
    await d.records.until(
      (seen) => ofLoad(seen) >= load.run.counts.upserted,
      'the load’s record events',
      120_000,
    ),
  );
  d.figures.records = load.run.counts.upserted;
  d.figures.loadCalls = load.calls;
  d.figures.loadSeconds = load.run.durationMs / 1000;
  d.step(
    `initial sync complete: ${load.run.counts.upserted} records in ${load.run.progress.pages} pages ` +
      `(${load.run.apiCalls} API calls; Intuit counted ${load.calls}, at most ${load.busiestMinute} in any ` +
      `minute of its budget of 500), ${published} record events on qbo.records.v1, in ` +
      `${(load.run.durationMs / 1000).toFixed(1)} s`,
  );

  chapter('3. a change in QuickBooks reaches a downstream consumer');
  await changeArrives(d, realmId);

  chapter('4. a forced token rotation');
  await forcedRotation(d, connectionId, realmId);

  chapter('5. an Intuit outage');
  await survivesOutage(d, connectionId, realmId);

  chapter('6. a poison record');
  await poisonRetried(d, connectionId, realmId, poison.id);

  chapter('7. a push to QuickBooks');
  await pushCreates(d, connectionId, realmId);

  chapter('8. a revoked grant');
  await revokedDeactivates(d, connectionId, realmId);

  chapter('9. a reconnect');
  await reconnectResumes(d, realmId);

  const f = d.figures;
  const events = (await d.records.until(() => true, 'the record events')).length;
  const total = apiCalls(await counters(d), realmId);
  const sorted = [...f.changeLatencyMs].sort((a, b) => a - b);
  chapter('the figures');
  d.step(`records loaded:        ${f.records} in ${f.loadSeconds.toFixed(1)} s`);
  d.step(
    `Accounting API calls:  ${f.loadCalls} for the load, ${total} in all (Intuit allows 500/min per realm)`,
  );
  d.step(`record events:         ${events} on qbo.records.v1 for ${d.orgId}`);
  d.step(
    `change → consumer:     ${sorted.map((ms) => `${ms} ms`).join(', ')} (median ${sorted[Math.floor(sorted.length / 2)]} ms)`,
  );
  d.step(`outage:                ${f.outageAttempts} failed refreshes, 0 deactivations`);
  d.step(`reconnect catch-up:    ${f.catchUpCalls} Accounting API call(s), no reload`);
  d.step(`story complete in ${Math.round((Date.now() - started) / 1000)} s`);
}
