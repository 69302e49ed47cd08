import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connectAndStore,
  createEnv,
  type Env,
  type InProcessService,
  key,
  recordingMetrics,
  serviceEnv,
  startInProcess,
} from './testing/harness.js';

const HOUR = 3_600_000;
const BATCH = 3;

describe('scheduler with rows that cannot be refreshed (real Postgres, simulator as Intuit)', () => {
  let env: Env;
  let svc: InProcessService;
  const metrics = recordingMetrics();

  before(async () => {
    env = await createEnv('token_sched', { clock: { start: '2026-11-25T12:00:00Z', frozen: true } });
    svc = await startInProcess(
      serviceEnv(env, {
        TOKEN_KEYS: `k1:${key()}`,
        TOKEN_ACTIVE_KEY_ID: 'k1',
        SCHEDULER_INTERVAL_MS: String(HOUR),
        SCHEDULER_BATCH_SIZE: String(BATCH),
        SCHEDULER_CONCURRENCY: '2',
      }),
      { now: () => env.sim.control.clock.now(), metrics },
    );
  });
  after(async () => {
    await svc?.stop();
    await env?.close();
  });

  it('defers rows whose refresh throws, so a full batch of them never starves a healthy due row', async () => {
    const broken: string[] = [];
    for (let i = 0; i < BATCH; i++) broken.push((await connectAndStore(env.sim, svc.client)).connectionId);
    const healthy = (await connectAndStore(env.sim, svc.client)).connectionId;
    // A key-encryption key retired too early: these data keys name a kid the ring no longer has.
    await env.db.query(
      `update token.data_key set sealed_key = regexp_replace(sealed_key, '^v1\\.[^.]+\\.', 'v1.retired.')
       where connection_id = any($1)`,
      [broken],
    );
    const now = env.sim.control.clock.now();
    // The broken rows are the oldest due ones, so each pass's batch is exactly them.
    await env.db.query(
      `update token.credential set next_refresh_at = $2::timestamptz - (interval '1 hour')
       where connection_id = any($1)`,
      [broken, new Date(now).toISOString()],
    );
    await env.db.query(
      `update token.credential set next_refresh_at = $2::timestamptz - (interval '1 minute')
       where connection_id = $1`,
      [healthy, new Date(now).toISOString()],
    );

    let refreshed = 0;
    for (let tick = 0; tick < 3 && refreshed === 0; tick++) refreshed += await svc.scheduler.tick();
    assert.equal(refreshed, 1, 'the healthy row was refreshed within three passes');
    assert.equal((await svc.client.status(healthy)).credentialVersion, 2);
    assert.equal(
      metrics.counts.get('scheduler_error:unknown_key'),
      BATCH,
      'each failure counted by its code',
    );

    const rows = await env.db.query<{ attempts: number; last_error_code: string; next_refresh_at: Date }>(
      'select attempts, last_error_code, next_refresh_at from token.credential where connection_id = any($1)',
      [broken],
    );
    for (const row of rows) {
      assert.equal(row.attempts, 1);
      assert.equal(row.last_error_code, 'unknown_key');
      const delay = row.next_refresh_at.getTime() - now;
      assert.ok(delay >= 15_000 && delay <= 30_000, `first deferral is the initial backoff (${delay} ms)`);
    }

    // Still broken later: the delay doubles, up to the cap, and the rows stay out of healthy rows' way.
    env.sim.control.clock.advance(31_000);
    assert.equal(await svc.scheduler.tick(), 0);
    const again = await env.db.query<{ attempts: number; next_refresh_at: Date }>(
      'select attempts, next_refresh_at from token.credential where connection_id = any($1)',
      [broken],
    );
    const later = env.sim.control.clock.now();
    for (const row of again) {
      assert.equal(row.attempts, 2);
      const delay = row.next_refresh_at.getTime() - later;
      assert.ok(delay >= 30_000 && delay <= 60_000, `second deferral doubles (${delay} ms)`);
    }
  });
});
