import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  attack,
  type ExportedSpan,
  type OtlpSink,
  type ServiceProcess,
  spanFindings,
  startOtlpSink,
} from '@qbo/testkit';
import {
  CALLER_CREDENTIALS,
  clientFor,
  connectAndStore,
  connectionsProducer,
  createEnv,
  type Env,
  key,
  publishDisconnect,
  serviceEnv,
  startChild,
  waitFor,
} from './testing/harness.js';

// OTLP span kinds (the API's plus one).
const PRODUCER = 4;
const CONSUMER = 5;

describe('what token-service exports to the tracing backend: OTLP to a collector stand-in, simulator as Intuit, Kafka, Postgres (child process)', () => {
  let env: Env;
  let sink: OtlpSink;
  let proc: ServiceProcess;

  before(async () => {
    [env, sink] = await Promise.all([createEnv('token_telemetry'), startOtlpSink()]);
    proc = await startChild(
      serviceEnv(env, {
        TOKEN_KEYS: `k1:${key()}`,
        TOKEN_ACTIVE_KEY_ID: 'k1',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.tracesUrl,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }),
    );
  });
  after(async () => {
    await proc?.stop();
    await sink?.close();
    await env?.close();
  });

  attack(
    'read org and realm ids, tokens and credentials from the spans of a stored grant, a served and a refreshed token, and a consumed disconnect',
    async () => {
      const client = clientFor(proc.url);
      const c = await connectAndStore(env.sim, client);
      const served = await client.getAccessToken(c.connectionId);
      const refreshed = await client.refreshAfterRejection(c.connectionId, c.accessToken);
      const producer = await connectionsProducer(env.bus);
      try {
        await publishDisconnect(producer, c, true);
      } finally {
        await producer.disconnect();
      }
      await waitFor(
        async () =>
          (
            await env.db.query(
              `select 1 from token.credential where connection_id = $1 and status = 'disconnected'`,
              [c.connectionId],
            )
          ).length === 1,
        { timeoutMs: 30_000, what: 'the disconnect consumed' },
      );

      const tokensTopic = env.bus.names.physical('qbo.tokens.v1');
      const spans = await waitFor(
        () => {
          const all = sink.spans();
          const seen =
            all.some((s) => String(s.attributes['db.query.text'] ?? '').includes('credential')) &&
            all.some(
              (s: ExportedSpan) =>
                s.scope.includes('instrumentation-kafkajs') &&
                s.kind === PRODUCER &&
                s.attributes['messaging.destination.name'] === tokensTopic,
            ) &&
            all.some((s) => s.kind === CONSUMER && s.name === 'process ConnectionDisconnected');
          return seen ? all : undefined;
        },
        { timeoutMs: 30_000, what: 'the SQL, producer and consumer spans exported' },
      );

      assert.equal(served.accessToken, c.accessToken);
      assert.notEqual(refreshed.accessToken, c.accessToken, 'the refresh rotated the token');
      assert.deepEqual(
        spanFindings(spans, {
          'org id': c.orgId,
          'realm id': c.realmId,
          'access token': c.accessToken,
          'refresh token': c.refreshToken,
          'refreshed access token': refreshed.accessToken,
          "auth-service's credential": CALLER_CREDENTIALS['auth-service'],
          "sync-service's credential": CALLER_CREDENTIALS['sync-service'],
          "the operator's credential": CALLER_CREDENTIALS.operator,
          'client secret': 'sim-client-secret',
        }),
        [],
      );
    },
    { timeout: 120_000 },
  );
});
