import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readToEnd, serverUrl, testBrokers, uniqueName } from '@qbo/testkit';
import pg from 'pg';

interface RecordEvent {
  type: string;
  data: {
    realmId: string;
    entity: string;
    entityId: string;
    op: string;
    source?: { runId?: string };
    /** The snapshot a load's record belongs to… */
    snapshot?: { runId: string };
    /** …and, on the bracket's own events, its id. */
    runId?: string;
  };
}

interface RunRow {
  run_id: string;
  trigger: string;
  mode: string;
  status: string;
  upserted: number;
  deleted: number;
}

/** sync-service's run rows for the realm, and how many records its mirror holds there. */
async function syncRows(database: string, realmId: string) {
  const url = new URL(serverUrl());
  url.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    const runs = await db.query<RunRow>(
      `select run_id::text, trigger, mode, status, upserted, deleted from sync.sync_run where realm_id = $1
       order by started_at`,
      [realmId],
    );
    const mirror = await db.query<{ n: number }>(
      'select count(*)::int as n from sync.mirror_record where realm_id = $1 and deleted_at is null',
      [realmId],
    );
    return { runs: runs.rows, mirrored: mirror.rows[0]?.n ?? 0 };
  } finally {
    await db.end();
  }
}

describe('npm start (the stack command)', () => {
  it('brings up the simulator and every service, tells the demo story end to end (load and record events counted on the topic and in the run rows), then stops all with exit 0', async () => {
    const database = uniqueName('test_stack').replace(/-/g, '_');
    // Topics of this run only, so what the services published can be counted afterwards.
    const topicPrefix = `${uniqueName('stack')}.`;
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('cli.js', import.meta.url)), '--demo', '--once', '--free-ports', '--logs'],
      {
        env: {
          ...process.env,
          QBO_DATABASE: database,
          KAFKA_BROKERS: testBrokers().join(','),
          KAFKA_TOPIC_PREFIX: topicPrefix,
          KAFKA_TOPIC_PARTITIONS: '3',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const [code] = await once(child, 'exit');
    try {
      assert.equal(code, 0, output);
      assert.match(output, /all services ready/);
      assert.match(output, /^\s+qbo-simulator\s+http:\/\/127\.0\.0\.1:\d+\s+ok$/m);
      for (const chapter of [
        /\[demo\] callback accepted/,
        /\[demo\] initial sync complete: \d+ records in \d+ pages/,
        /\[demo\] sync-service published RecordUpserted Customer \S+ \(op c\) on qbo\.records\.v1/,
        /\[demo\] token-service holds credential version \d+ \(active\)/,
        /\[demo\] a customer created in QuickBooks arrived as a verified webhook/,
        /\[demo\] Intuit refused the expired token \(401\); token-service refreshed it once/,
        /\[demo\] auth-service shows the connection deactivated/,
        /\[demo\] the org disconnected; token-service shredded/,
        /\[demo\] story complete/,
      ])
        assert.match(output, chapter);
      for (const name of ['auth-service', 'token-service', 'sync-service', 'webhook-ingest']) {
        assert.match(output, new RegExp(`^\\s+${name}\\s+http://127\\.0\\.0\\.1:\\d+\\s+ok$`, 'm'));
        assert.match(output, new RegExp(`\\[${name}\\] .*shutdown complete.*"exitCode":0`));
      }

      // "Refreshed it once", counted where token-service records each refresh it stored: its TokenRotated
      // events on the tokens topic, of which this run wrote every one.
      const connectionId = /\[demo\] connection (\S+) is active/.exec(output)?.[1];
      const versions = /credential version (\d+) → (\d+)\)/.exec(output);
      const rotated = (await readToEnd(`${topicPrefix}qbo.tokens.v1`))
        .map(
          ({ message }) =>
            JSON.parse(String(message.value)) as { type: string; data: Record<string, unknown> },
        )
        .filter((e) => e.type === 'TokenRotated');
      assert.deepEqual(
        rotated.map((e) => [e.data.connectionId, e.data.credentialVersion]),
        [[connectionId, Number(versions?.[2])]],
        'one refresh stored, the one the demo reports',
      );

      // The sync, counted where it happened: sync-service's run rows and mirror in this run's database, and
      // the record change log this run's services wrote.
      const realmId = /\(realm (\d+)\)/.exec(output)?.[1];
      const claimed = Number(/initial sync complete: (\d+) records/.exec(output)?.[1]);
      const customerId = /RecordUpserted Customer (\S+) \(op c\)/.exec(output)?.[1];
      const { runs, mirrored } = await syncRows(database, String(realmId));
      const load = runs.find((r) => r.mode === 'initial' && r.status === 'completed');
      assert.ok(load, `a completed initial load: ${JSON.stringify(runs)}`);
      assert.equal(load.upserted, claimed, 'the load the demo reports is the one sync-service recorded');
      // The webhook asks for a delta soon; when the load's own follow-up delta is still waiting, that one run
      // answers both and keeps the reason first given, so the run is found by what it did, not by its label.
      const deltas = runs.filter((r) => r.mode === 'cdc' && r.status === 'completed');
      assert.ok(deltas.length > 0, `a delta run after the load: ${JSON.stringify(runs)}`);
      // The load reads up to a cursor margin behind Intuit's clock; the first delta takes what is newer.
      const upserted = runs.reduce((sum, r) => sum + r.upserted, 0);
      assert.equal(mirrored, upserted, 'the mirror holds what the runs upserted');
      assert.ok(mirrored >= 301, `the 300 seeded records and the new customer are mirrored (${mirrored})`);

      const log = (await readToEnd(`${topicPrefix}qbo.records.v1`))
        .map(({ message }) => JSON.parse(String(message.value)) as RecordEvent)
        .filter((e) => e.data.realmId === realmId);
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
        assert.equal(
          ofRun(run.run_id).length,
          run.upserted + run.deleted,
          `one record event per record the ${run.mode} run upserted or deleted`,
        );
      const deleted = runs.reduce((sum, r) => sum + r.deleted, 0);
      assert.equal(events.length, upserted + deleted, 'no record event outside the runs');
      assert.ok(
        ofRun(load.run_id).every(
          (e) => e.type === 'RecordUpserted' && e.data.op === 'r' && e.data.snapshot?.runId === snapshotId,
        ),
        'the load emitted its records as reads of the snapshot',
      );
      const customer = events.filter((e) => e.data.entity === 'Customer' && e.data.entityId === customerId);
      assert.deepEqual(
        customer.map((e) => [e.type, e.data.op]),
        [['RecordUpserted', 'c']],
        'the new customer, published once',
      );
      assert.ok(
        deltas.some((r) => r.run_id === customer[0]?.data.source?.runId),
        'the new customer came with a delta run after the load',
      );
      const orgId = /\[demo\] (\S+) started a connect flow/.exec(output)?.[1];
      const states = new Set(
        (await readToEnd(`${topicPrefix}qbo.records.state.v1`))
          .map(({ message }) => String(message.key))
          .filter((key) => key.startsWith(`${orgId}:${realmId}:`)),
      );
      assert.equal(states.size, mirrored, 'the state topic holds every mirrored record of the company');
    } finally {
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
    }
  });
});
