import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoRoot, serverUrl, testBrokers, uniqueName, waitFor } from '@qbo/testkit';
import pg from 'pg';
import { checkStory } from './story-check.js';

describe('npm start (the stack command)', () => {
  it('brings up the simulator and every service, tells the whole demo story (counted at the simulator, on the topics and in the rows), stays up, then stops all with exit 0 on SIGTERM', {
    timeout: 600_000,
  }, async () => {
    const database = uniqueName('test_stack').replace(/-/g, '_');
    // Topics of this run only, so what the services published can be counted afterwards.
    const topicPrefix = `${uniqueName('stack')}.`;
    // No --once: the stack stays up after the story, so the simulator can be asked what it counted.
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('cli.js', import.meta.url)), '--demo', '--free-ports', '--logs'],
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
    const exited = once(child, 'exit');
    try {
      // The story told and the stack left running; a stack that exits first fails at once.
      await Promise.race([
        waitFor(() => output.includes('[stack] press Ctrl-C to stop'), {
          timeoutMs: 540_000,
          intervalMs: 500,
          what: 'the story told and the stack left running',
        }),
        exited.then(([code]) => assert.fail(`the stack exited (${code}):\n${output.slice(-5000)}`)),
      ]);
      assert.match(output, /all services ready/);
      assert.match(output, /^\s+qbo-simulator\s+http:\/\/127\.0\.0\.1:\d+\s+ok$/m);
      for (const name of ['auth-service', 'token-service', 'sync-service', 'webhook-ingest', 'console'])
        assert.match(output, new RegExp(`^\\s+${name}\\s+http://127\\.0\\.0\\.1:\\d+\\s+ok$`, 'm'));
      const simulatorUrl = /^\s+qbo-simulator\s+(http:\/\/127\.0\.0\.1:\d+)\s+ok$/m.exec(output)?.[1];
      await checkStory({ output, database, topicPrefix, simulatorUrl: String(simulatorUrl) });
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, output.slice(-5000));
      for (const name of ['auth-service', 'token-service', 'sync-service', 'webhook-ingest'])
        assert.match(output, new RegExp(`\\[${name}\\] .*shutdown complete.*"exitCode":0`));
    } finally {
      // What the stack printed, for reading after a failure: .local/stack/stack-e2e.log.
      await writeFile(join(repoRoot(), '.local', 'stack', 'stack-e2e.log'), output).catch(() => undefined);
      if (child.exitCode === null) child.kill('SIGKILL');
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
    }
  });
});
