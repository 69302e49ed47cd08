import assert from 'node:assert/strict';
import { readToEnd } from '@qbo/testkit';
import { idsOf, simulatorCounters, syncRows, topic } from './story-facts.js';

/**
 * What the demo story claims, counted where it happened, not in its own lines (which only name the ids):
 * the health and rotations on the tokens topic, the load, deltas, retry, push and catch-up in sync-service's
 * rows and on the record change log, and the outage, retry and push at the simulator (still running).
 * `database` is the platform database the services used and `topicPrefix` the KAFKA_TOPIC_PREFIX they
 * published under (a run's own, so everything there is theirs).
 */
export async function checkStory({
  output,
  database,
  topicPrefix,
  simulatorUrl,
}: {
  output: string;
  database: string;
  topicPrefix: string;
  simulatorUrl: string;
}): Promise<void> {
  assert.match(output, /\[demo\] story complete/);
  const ids = idsOf(output);
  const realmId = String(ids.realmId);
  const [first, again] = ids.connections;
  assert.ok(first && again, `a connection and its reconnection: ${ids.connections}`);

  // The tokens topic: one forced rotation; one outage, degraded once and recovered once by a refresh; then
  // the revoked grant, deactivated once. Nothing deactivated during the outage.
  const ofFirst = (await topic(topicPrefix, 'qbo.tokens.v1')).filter((e) => e.data.connectionId === first);
  const deactivated = ofFirst.find((e) => e.type === 'ConnectionDeactivated');
  const tokenFacts = ofFirst.filter((e) => e.type !== 'ReconnectSoon').map((e) => e.type);
  assert.deepEqual(
    tokenFacts.slice(0, 6),
    [
      'TokenRotated',
      'ConnectionDegraded',
      'TokenRotated',
      'ConnectionRecovered',
      'ConnectionDeactivated',
      'ReauthorizationRequired',
    ],
    'rotation, outage survived, then deactivation for the revoked grant',
  );
  const deactivatedAt = Date.parse(String(deactivated?.data.deactivatedAt));

  // At the simulator: the outage's refreshes answered 503 (the forced one and token-service's own retry),
  // the one record retried, and the push, one write.
  const counters = (await simulatorCounters(simulatorUrl))[realmId] ?? {};
  assert.ok((counters.token?.statuses['503'] ?? 0) >= 2, 'refreshes met the outage and were retried');
  assert.equal(counters.write?.calls, 1, 'one write: the push');
  assert.equal(counters.write?.statuses['200'], 1, 'answered 200');

  const { runs, mirrored, errors, pushes } = await syncRows(database, realmId);
  const loads = runs.filter((r) => r.mode === 'initial');
  assert.deepEqual(
    loads.map((r) => [r.connection_id, r.status]),
    [[first, 'completed']],
    'one load, of the first connection only: the reconnect did not reload',
  );
  const load = loads[0] as (typeof loads)[number];
  assert.equal(load.upserted, ids.loaded, 'the load the demo reports is the one sync-service recorded');
  // The reconnect's runs: whatever ran after the deactivation (the connection id may be the same again).
  const catchUp = runs.filter((r) => new Date(r.started_at).getTime() > deactivatedAt);
  assert.ok(catchUp.length > 0, 'a run after the reconnect');
  assert.ok(
    catchUp.every((r) => r.mode === 'cdc' && r.api_calls <= 2),
    `the reconnect resumed with deltas of a call or two: ${JSON.stringify(catchUp)}`,
  );
  assert.deepEqual(
    errors.map((e) => [e.entity, e.code, e.resolved_by]),
    [['Customer', '4002', 'retry']],
    'the poisoned customer, closed by its retry',
  );
  assert.deepEqual(
    pushes.map((p) => [p.status, p.applied]),
    [['pushed', 'created']],
    'the push, applied as a create',
  );

  const syncRuns = await topic(topicPrefix, 'qbo.sync-runs.v1');
  const retried = syncRuns.filter((e) => e.type === 'SyncErrorRetried');
  assert.deepEqual(
    retried.map((e) => [e.data.outcome, e.data.apiCalls]),
    [['resolved', 1]],
    'one retry, one call, resolved',
  );
  const pushed = syncRuns.filter((e) => e.type === 'RecordPushed');
  assert.deepEqual(
    pushed.map((e) => [e.data.commandId, e.data.entityId]),
    [[pushes[0]?.command_id, ids.pushed]],
    'RecordPushed names the customer the demo read back at Intuit',
  );

  // The record change log: the snapshot bracket, one event per record each run upserted or deleted, the
  // retried record once more, and each change of the story exactly once.
  const log = (await topic(topicPrefix, 'qbo.records.v1')).filter((e) => e.data.realmId === realmId);
  const bracket = log.filter((e) => e.type.startsWith('RecordSnapshot'));
  const snapshotId = bracket[0]?.data.runId;
  assert.deepEqual(
    bracket.map((e) => [e.type, e.data.runId]),
    [
      ['RecordSnapshotStarted', snapshotId],
      ['RecordSnapshotCompleted', snapshotId],
    ],
    'one snapshot opened and closed',
  );
  const events = log.filter((e) => e.type === 'RecordUpserted' || e.type === 'RecordDeleted');
  const ofRun = (runId: string) => events.filter((e) => e.data.source?.runId === runId);
  for (const run of runs)
    assert.equal(ofRun(run.run_id).length, run.upserted + run.deleted, `one event per record of ${run.mode}`);
  assert.ok(
    ofRun(load.run_id).every((e) => e.data.op === 'r' && e.data.snapshot?.runId === snapshotId),
    'the load emitted its records as reads of the snapshot',
  );
  // Outside the runs: the retried record, once (and the pushed customer, if the push publishes it itself).
  const runIds = new Set(runs.map((r) => r.run_id));
  const outside = events.filter((e) => !runIds.has(String(e.data.source?.runId)));
  const retriedRecord = String(retried[0]?.data.entityId);
  assert.deepEqual(
    outside.filter((e) => e.data.entityId !== ids.pushed).map((e) => [e.data.entity, e.data.entityId]),
    [['Customer', retriedRecord]],
    'no record event outside the runs but the retried record’s',
  );
  for (const id of [...ids.changed, ...ids.whileDeactivated, ids.pushed])
    assert.equal(
      events.filter((e) => e.data.entity === 'Customer' && e.data.entityId === id && e.data.op === 'c')
        .length,
      1,
      `customer ${id} created once`,
    );
  const states = new Set(
    (await readKeys(topicPrefix)).filter((key) => key.startsWith(`${ids.orgId}:${realmId}:`)),
  );
  assert.equal(states.size, mirrored, 'the state topic holds every mirrored record of the company');
}

async function readKeys(topicPrefix: string): Promise<string[]> {
  return (await readToEnd(`${topicPrefix}qbo.records.state.v1`)).map(({ message }) => String(message.key));
}
