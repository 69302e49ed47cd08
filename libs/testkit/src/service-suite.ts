import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from './database.js';
import { testBrokers } from './kafka.js';
import { startProcess } from './process.js';

export interface LifecycleSuiteOptions {
  service: string;
  schema: string;
  /** Shutdown steps the service adds besides the common ones, in the order they must run. */
  extraSteps?: readonly string[];
  /** The service package's folder (holding dist/). */
  root: URL;
  /** Variables the service requires besides the common ones (credentials, keys), as a test would set them. */
  env?: Readonly<Record<string, string>>;
}

/**
 * What every service must do as a process: start on real Postgres and Kafka, migrate its own schema, answer
 * its probes, refuse a bad environment by naming the variables, and stop cleanly on SIGTERM.
 */
export function describeServiceLifecycle({
  service,
  schema,
  root,
  extraSteps = [],
  env: serviceEnv = {},
}: LifecycleSuiteOptions): void {
  const entry = fileURLToPath(new URL('dist/main.js', root));
  const preload = fileURLToPath(new URL('dist/telemetry.js', root));

  describe(`${service} lifecycle`, () => {
    let db: TestDatabase;
    const env = () => ({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: testBrokers().join(','),
      PORT: '0',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...serviceEnv,
    });

    before(async () => {
      db = await createTestDatabase(service);
    });
    after(async () => {
      await db.drop();
    });

    it('starts, migrates its own schema and reports database and Kafka ready', async () => {
      const proc = await startProcess({ entry, preload, env: { ...env(), METRICS_PORT: '0' } });
      try {
        const health = await fetch(`${proc.url}/healthz`);
        assert.equal(health.status, 200);
        const ready = await fetch(`${proc.url}/readyz`);
        assert.equal(ready.status, 200);
        assert.deepEqual(await ready.json(), {
          status: 'ok',
          checks: { database: { status: 'ok' }, kafka: { status: 'ok' } },
        });
        const tables = await db.query<{ table_name: string }>(
          'select table_name from information_schema.tables where table_schema = $1',
          [schema],
        );
        assert.ok(
          tables.some((t) => t.table_name === 'mikro_orm_migrations'),
          `the migrations table lives in the ${schema} schema`,
        );
        const problem = await fetch(`${proc.url}/no-such-route`);
        assert.equal(problem.status, 404);
        assert.equal(problem.headers.get('content-type'), 'application/problem+json');

        const listening = proc.logs.find((l) => l.msg === 'metrics server listening');
        assert.ok(listening, 'a metrics port was opened');
        const scrape = await fetch(`http://127.0.0.1:${listening.port}/metrics`);
        assert.equal(scrape.status, 200);
        const text = await scrape.text();
        assert.match(text, new RegExp(`^target_info\\{.*service_name="${service}"`, 'm'));
        assert.match(
          text,
          /^# TYPE http_server_request_duration(_seconds)? histogram$/m,
          'HTTP metrics are recorded',
        );
      } finally {
        await proc.stop();
      }
    });

    it('exits 0 on SIGTERM within the deadline, logging each shutdown step', async () => {
      const proc = await startProcess({ entry, preload, env: env() });
      const t0 = Date.now();
      const code = await proc.stop('SIGTERM');
      const elapsed = Date.now() - t0;
      assert.equal(code, 0, proc.output());
      assert.ok(elapsed < 10_000, `stopped in ${elapsed} ms`);
      const steps = proc.logs.filter((l) => l.msg === 'shutdown step done').map((l) => String(l.step));
      // Every service has these steps, in this order; its own (consumers, producers) fall between them.
      const base = ['http', 'database', 'kafka-admin', 'telemetry'];
      assert.deepEqual(
        steps.filter((s) => base.includes(s)),
        base,
        `steps: ${steps.join(', ')}`,
      );
      assert.deepEqual(
        steps.filter((s) => extraSteps.includes(s)),
        [...extraSteps],
        `the service's own steps ran, in order: ${steps.join(', ')}`,
      );
      assert.ok(!proc.logs.some((l) => l.msg === 'shutdown step failed'), proc.output());
      assert.ok(proc.logs.some((l) => l.msg === 'shutdown complete' && l.exitCode === 0));
    });

    it('refuses to start with a missing or invalid variable, naming each one', async () => {
      const { DATABASE_URL: _omitted, ...rest } = env();
      const proc = await startProcess({
        entry,
        preload,
        env: { ...rest, DATABASE_URL: undefined, PORT: 'eighty', KAFKA_BROKERS: 'not a broker list' },
        waitForStart: false,
      });
      const code = await proc.exited;
      assert.equal(code, 1);
      const fatal = proc.logs.find((l) => l.msg === 'invalid configuration');
      assert.ok(fatal, proc.output());
      const problems = (fatal.problems as string[]).join('\n');
      assert.match(problems, /^DATABASE_URL: is required$/m);
      assert.match(problems, /^PORT: /m);
      assert.match(problems, /^KAFKA_BROKERS: /m);
      assert.doesNotMatch(proc.output(), /eighty|not a broker list/, 'bad values are not echoed');
    });
  });
}
