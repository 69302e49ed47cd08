import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readToEnd, serverUrl, testBrokers, uniqueName } from '@qbo/testkit';
import pg from 'pg';

describe('npm start (the stack command)', () => {
  it('brings up the simulator and every service, tells the demo story end to end, then stops all with exit 0', async () => {
    const database = uniqueName('test_stack').replace(/-/g, '_');
    // Topics of this run only, so what token-service published can be counted afterwards.
    const topicPrefix = `${uniqueName('stack')}.`;
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('cli.js', import.meta.url)), '--demo', '--once', '--free-ports'],
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
    } finally {
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
    }
  });
});
