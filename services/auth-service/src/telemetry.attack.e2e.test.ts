import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { ConnectionDeactivated, createEventFactory, topics } from '@qbo/events';
import {
  attack,
  type ExportedSpan,
  type OtlpSink,
  spanFindings,
  startOtlpSink,
  uniqueName,
  waitFor,
} from '@qbo/testkit';
import { connectSuite, read } from './testing/connect-suite.js';
import { Browser, CLIENT_SECRET, COOKIE_SECRET, SERVICE_CREDENTIAL } from './testing/harness.js';

// OTLP span kinds (the API's plus one).
const PRODUCER = 4;
const CONSUMER = 5;

describe('what auth-service exports to the tracing backend: OTLP to a collector stand-in, simulator as Intuit, Kafka, Postgres, Redis', () => {
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
  });
  after(() => sink?.close());
  const t = connectSuite('auth-telemetry', {
    env: () => ({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.tracesUrl, OTEL_BSP_SCHEDULE_DELAY: '100' }),
  });

  attack(
    'read org and realm ids, OAuth state and its hash, code, tokens and event payloads from the spans of a connect, its event and a consumed event',
    async () => {
      const orgId = uniqueName('org-traced');
      const realmId = t.freshRealm();
      const statesBefore = new Set(t.handled.states);
      const { connectionId } = await t.connect(orgId, realmId);
      const state = [...t.handled.states].find((s) => !statesBefore.has(s)) ?? '';
      const deactivatedAt = new Date().toISOString();
      await t.producer.publish(
        createEventFactory({ source: 'token-service' })(ConnectionDeactivated, {
          orgId,
          realmId,
          data: { connectionId, realmId, reason: 'invalid_grant', attempts: 2, deactivatedAt },
        }),
      );
      await waitFor(
        async () => (await read(await t.api(`/connections/${connectionId}`, orgId))).status === 'deactivated',
        { timeoutMs: 60_000, what: 'the consumed event projected' },
      );

      const connectionsTopic = t.bus.names.physical(topics.connections);
      const kafkaScope = (s: ExportedSpan) => s.scope.includes('instrumentation-kafkajs');
      const spans = await waitFor(
        () => {
          const all = sink.spans();
          const seen =
            all.some((s) => s.attributes['url.path'] === '/oauth/callback') &&
            all.some((s) => String(s.attributes['db.query.text'] ?? '').includes('oauth_state')) &&
            all.some(
              (s) =>
                kafkaScope(s) &&
                s.kind === PRODUCER &&
                s.attributes['messaging.destination.name'] === connectionsTopic,
            ) &&
            all.some((s) => s.kind === CONSUMER && s.name === 'process ConnectionDeactivated');
          return seen ? all : undefined;
        },
        { timeoutMs: 30_000, what: 'the callback, SQL, producer and consumer spans exported' },
      );

      const tokens = t.tokenService.stores
        .filter((s) => s.connectionId === connectionId)
        .flatMap((s) => [s.body.accessToken, s.body.refreshToken]);
      assert.ok(state && tokens.length === 2 && t.handled.codes.size > 0, 'the scan has material');
      const forbidden: Record<string, string> = {
        'org id': orgId,
        'realm id': realmId,
        'OAuth state': state,
        'state hash': createHash('sha256').update(state).digest('hex'),
        'event payload (deactivatedAt)': deactivatedAt,
        ...Object.fromEntries([...t.handled.codes].map((c, i) => [`code ${i}`, c])),
        ...Object.fromEntries(tokens.map((tk, i) => [`token ${i}`, tk])),
        ...Object.fromEntries([...t.handled.bearers].map((b, i) => [`org credential ${i}`, b])),
        'client secret': CLIENT_SECRET,
        'cookie secret': COOKIE_SECRET,
        'service credential': SERVICE_CREDENTIAL,
      };
      assert.deepEqual(spanFindings(spans, forbidden), []);
      assert.ok(
        Browser.seen.some((r) => r.url.includes('/oauth/callback')),
        'the flow went through the callback',
      );
    },
    { timeout: 120_000 },
  );
});
