import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { COMPOSE_SERVICES, type ComposeRun, override, secretFiles } from './compose.js';

const run: ComposeRun = {
  project: 'imagesx',
  ports: {
    'token-service': 41001,
    'auth-service': 41002,
    'sync-service': 41003,
    'webhook-ingest': 41004,
    simulator: 41005,
    console: 41006,
  },
  metricsPorts: {
    'token-service': 42001,
    'auth-service': 42002,
    'sync-service': 42003,
    'webhook-ingest': 42004,
  },
  secrets: {
    authServiceCredential: 'auth-credential-0123456789',
    syncServiceCredential: 'sync-credential-0123456789',
    operatorCredential: 'operator-credential-0123456789',
    tokenKeys: 'local1:a2V5LWtleS1rZXkta2V5LWtleS1rZXktMDEyMzQ1Njc4OQ==',
    stateCookieSecret: 'cookie-secret-0123456789',
    orgJwtSecret: 'jwt-secret-0123456789',
    webhookVerifierToken: 'verifier-token-0123456789',
    qboClientSecret: 'client-secret-0123456789',
  },
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/images_x',
  brokers: '127.0.0.1:39092',
  redisUrl: 'redis://127.0.0.1:6379',
  topicPrefix: 'images-x.',
  dir: '/work/.local/images/images_x',
};

describe('the compose override', () => {
  const o = override(run) as {
    services: Record<string, { network_mode: string; environment?: Record<string, string> }>;
    secrets: Record<string, { file: string }>;
  };

  it('puts every one of our containers on the host network, on the run’s own ports and topics', () => {
    assert.deepEqual(Object.keys(o.services).sort(), [...COMPOSE_SERVICES].sort());
    for (const service of Object.values(o.services)) assert.equal(service.network_mode, 'host');
    assert.equal(o.services['auth-service']?.environment?.PORT, '41002');
    assert.equal(o.services['auth-service']?.environment?.TOKEN_SERVICE_URL, 'http://127.0.0.1:41001');
    assert.equal(o.services['sync-service']?.environment?.KAFKA_TOPIC_PREFIX, 'images-x.');
  });

  it('holds no secret value: each is a file of the run, mounted by compose', () => {
    const text = stringify(o);
    for (const value of Object.values(run.secrets)) assert.ok(!text.includes(value));
    for (const name of Object.keys(secretFiles(run)))
      assert.equal(o.secrets[name]?.file, `/work/.local/images/images_x/secrets/${name}`);
  });
});
