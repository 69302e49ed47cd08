import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { answers, start, status, stop } from './broker.js';

// A second broker on its own ports and folder, so the suite's shared broker is left alone.
const options = { port: 29192, controllerPort: 29193, runDir: mkdtempSync(join(tmpdir(), 'local-kafka-')) };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local Kafka broker command', () => {
  after(async () => {
    await stop(options);
  });

  it('starts a broker that answers, is harmless to start twice, and stops leaving no process', async () => {
    const first = await start(options);
    assert.equal(first.started, true);
    assert.ok(await answers(first.address));
    const second = await start(options);
    assert.equal(second.started, false);
    assert.equal(second.pid, first.pid);
    assert.deepEqual(await status(options), { state: 'running', pid: first.pid, address: first.address });

    assert.equal(await stop(options), true);
    assert.equal(alive(first.pid), false);
    assert.deepEqual(await status(options), { state: 'stopped' });
    assert.equal(await answers(first.address, 500), false);
    assert.equal(await stop(options), false, 'stopping a stopped broker is a no-op');
  });

  it('restarts on the data it kept', async () => {
    const { pid, address } = await start(options);
    assert.ok(alive(pid));
    assert.ok(await answers(address));
    await stop(options);
  });
});
