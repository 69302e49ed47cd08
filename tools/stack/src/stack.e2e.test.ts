import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serverUrl, testBrokers, uniqueName } from '@qbo/testkit';
import pg from 'pg';
import { checkStory } from './story-check.js';

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
      for (const name of ['auth-service', 'token-service', 'sync-service', 'webhook-ingest']) {
        assert.match(output, new RegExp(`^\\s+${name}\\s+http://127\\.0\\.0\\.1:\\d+\\s+ok$`, 'm'));
        assert.match(output, new RegExp(`\\[${name}\\] .*shutdown complete.*"exitCode":0`));
      }
      await checkStory({ output, database, topicPrefix });
    } finally {
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
    }
  });
});
