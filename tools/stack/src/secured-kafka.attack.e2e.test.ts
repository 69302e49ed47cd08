import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyAcls,
  createEventProducer,
  createJsonSerde,
  createTopicNames,
  platformAcls,
  provisionTopics,
} from '@qbo/event-bus';
import { testLogger } from '@qbo/event-bus/testing';
import { ConnectionEstablished, createEventFactory, type TopicName, topics } from '@qbo/events';
import { type SecureBroker, startSecure } from '@qbo/local-kafka';
import { signPayload } from '@qbo/qbo-simulator';
import {
  attack,
  createTestDatabase,
  readToEnd,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  waitFor,
} from '@qbo/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { loadStackSecrets, type StackSecrets } from './secrets.js';
import {
  choosePorts,
  type Deployable,
  entryOf,
  QBO_CLIENT_ID,
  SERVICES,
  type StackPorts,
  serviceEnv,
  simulatorLaunch,
} from './services.js';

// Its own ports (below Linux's ephemeral range) and folder: the suite's plain broker is left alone.
const BROKER = { port: 29692, controllerPort: 29693 };
const prefix = 'sec.';
const names = createTopicNames(prefix);
const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'secured-kafka-'));
const passwords = Object.fromEntries(
  SERVICES.map((s) => [s.name, `${s.name}-pw-${crypto.randomUUID()}`]),
) as Record<Deployable, string>;

describe('the platform on a SASL_SSL broker with per-service SCRAM users and topic ACLs', () => {
  let broker: SecureBroker;
  let db: TestDatabase;
  let ports: StackPorts;
  let secrets: StackSecrets;
  let admin: Kafka;
  const running = new Map<Deployable, ServiceProcess>();

  /** A service's environment: its own SCRAM user, its password from a file, the broker's CA. */
  const envOf = (name: Deployable, overrides: Record<string, string | undefined> = {}) => {
    const passwordFile = join(dir, `${name}.password`);
    writeFileSync(passwordFile, passwords[name], { mode: 0o600 });
    return {
      ...serviceEnv(name, ports, secrets, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
      DATABASE_URL: db.url,
      KAFKA_BROKERS: broker.address,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: name,
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
      PORT: String(ports[name]),
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...overrides,
    };
  };
  const start = (name: Deployable, env: Record<string, string | undefined>, waitForStart = true) =>
    startProcess({ ...entryOf(root, name), env, waitForStart, startTimeoutMs: 60_000 });
  /** A client of the broker as one of the users, from outside the services. */
  const clientAs = (user: Deployable) =>
    new Kafka({
      clientId: `outsider-as-${user}`,
      brokers: [broker.address],
      ...broker.clientSecurity(user, passwords[user]),
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
  const highWatermark = async (topic: string) => {
    const a = admin.admin();
    await a.connect();
    try {
      return (await a.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await a.disconnect();
    }
  };

  before(async () => {
    broker = await startSecure({ ...BROKER, runDir: join(dir, 'broker'), users: passwords });
    admin = new Kafka({
      clientId: 'secured-kafka-test',
      brokers: [broker.address],
      ...broker.clientSecurity(),
      logLevel: logLevel.NOTHING,
    });
    // What an operator does once with the admin credential: the topics, then the contract's ACLs.
    const a = admin.admin();
    await a.connect();
    try {
      await provisionTopics({
        admin: a,
        names,
        partitions: 1,
        replicationFactor: 1,
        retentionMs: 3_600_000,
        parkingRetentionMs: 3_600_000,
        dlqRetentionMs: 3_600_000,
      });
      await applyAcls(a, platformAcls({ prefix }));
    } finally {
      await a.disconnect();
    }
    db = await createTestDatabase('secured-kafka');
    ports = await choosePorts(0, true);
    secrets = await loadStackSecrets(join(dir, 'secrets.json'));
    const started = await Promise.all(SERVICES.map(({ name }) => start(name, envOf(name))));
    for (const [i, { name }] of SERVICES.entries()) running.set(name, started[i] as ServiceProcess);
  });
  after(async () => {
    for (const proc of running.values()) await proc.stop();
    await broker?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts every service ready with its own SCRAM user, and each one’s consumer joins its own group', async () => {
    for (const [name, proc] of running) {
      const ready = await fetch(`${proc.url}/readyz`);
      assert.equal(ready.status, 200, `${name}: ${await ready.text()}`);
    }
    const a = admin.admin();
    await a.connect();
    try {
      const expected = ['auth-service.status-view', 'token-service.disconnect', 'sync-service.sync'];
      await waitFor(
        async () => {
          const groups = (await a.listGroups()).groups.map((g) => g.groupId);
          const wanted = [
            ...expected.map((g) => `${prefix}${g}`),
            groups.find((g) => g.startsWith(`${prefix}webhook-ingest.realm-orgs.`)) ?? 'webhook-ingest',
          ];
          const { groups: described } = await a.describeGroups(wanted);
          return described.every((g) => g.state === 'Stable' && g.members.length === 1);
        },
        { timeoutMs: 60_000, what: 'one stable member in each service’s group' },
      );
    } finally {
      await a.disconnect();
    }
  });

  it('carries a webhook from webhook-ingest (its user) to sync-service (its user) as an event', async () => {
    const orgId = 'org-secured';
    const realmId = '9130350000000001';
    // What auth-service would have published when the org connected the realm.
    const producer = createEventProducer({
      kafka: admin,
      serde: createJsonSerde(),
      log: testLogger(),
      names,
    });
    await producer.connect();
    try {
      await producer.publish(
        createEventFactory({ source: 'auth-service' })(ConnectionEstablished, {
          orgId,
          realmId,
          data: {
            connectionId: crypto.randomUUID(),
            realmId,
            environment: 'sandbox',
            scopes: ['com.intuit.quickbooks.accounting'],
            connectedAt: new Date().toISOString(),
          },
        }),
      );
    } finally {
      await producer.disconnect();
    }
    await waitFor(
      async () =>
        (await db.query('select 1 from webhook.realm_org where realm_id = $1 and active', [realmId])).length >
        0,
      { timeoutMs: 30_000, what: 'webhook-ingest linked the realm' },
    );

    const body = JSON.stringify({
      eventNotifications: [
        {
          realmId,
          dataChangeEvent: {
            entities: [
              { name: 'Customer', id: '42', operation: 'Update', lastUpdated: new Date().toISOString() },
            ],
          },
        },
      ],
    });
    const signature = signPayload(secrets.webhookVerifierToken, body);
    const ingest = running.get('webhook-ingest') as ServiceProcess;
    const res = await fetch(`${ingest.url}/webhooks/quickbooks`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'intuit-signature': signature },
    });
    assert.equal(res.status, 200, await res.text());

    const [published] = await readToEnd(names.physical(topics.webhooks), { kafka: admin });
    assert.ok(published, 'webhook-ingest published the notification');
    const event = JSON.parse(String(published.message.value)) as { id: string; type: string; source: string };
    assert.equal(event.type, 'EntityChangeNotified');
    await waitFor(
      async () => (await db.query('select 1 from sync.inbox where event_id = $1', [event.id])).length === 1,
      { timeoutMs: 30_000, what: 'sync-service handled the notification' },
    );
  });

  it('has every service publish on its own topics as its own user', async () => {
    // Intuit, for token-service's revoke: the stack's simulator, its app and its redirect URI.
    const sim = simulatorLaunch(ports, secrets, 'auto');
    const simulator = spawn(
      process.execPath,
      [join(root, 'tools', 'qbo-simulator', 'dist', 'cli.js'), ...sim.args],
      { env: { ...process.env, ...sim.env, LOG_LEVEL: 'warn' }, stdio: 'ignore' },
    );
    const simUrl = `http://127.0.0.1:${ports.simulator}`;
    try {
      await waitFor(
        () =>
          fetch(simUrl).then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 30_000,
          what: 'the simulator answers',
        },
      );
      const published = async (topic: TopicName, source: string, type?: string) => {
        const messages = await readToEnd(names.physical(topic), { kafka: admin });
        return messages.some(({ message }) => {
          const e = JSON.parse(String(message.value)) as { type: string; source: string };
          return e.source === source && (type === undefined || e.type === type);
        });
      };

      // auth-service: a forged callback is refused and audited on its own topic.
      const auth = running.get('auth-service') as ServiceProcess;
      const refused = await fetch(`${auth.url}/oauth/callback?code=c&state=forged&realmId=1`, {
        redirect: 'manual',
      });
      assert.notEqual(refused.status, 200);
      await waitFor(() => published(topics.connectionsAudit, 'auth-service'), {
        timeoutMs: 30_000,
        what: 'auth-service published its audit event',
      });

      // token-service: a grant stored and revoked through its API as auth-service is announced.
      const consent = await fetch(
        `${simUrl}/connect/oauth2?${new URLSearchParams({
          client_id: QBO_CLIENT_ID,
          response_type: 'code',
          scope: 'com.intuit.quickbooks.accounting openid',
          redirect_uri: `http://127.0.0.1:${ports['auth-service']}/oauth/callback`,
          state: 's',
        })}`,
        { redirect: 'manual' },
      );
      const callback = new URL(consent.headers.get('location') ?? '');
      const exchange = await fetch(`${simUrl}/oauth2/v1/tokens/bearer`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${QBO_CLIENT_ID}:${secrets.qboClientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') ?? '',
          redirect_uri: `http://127.0.0.1:${ports['auth-service']}/oauth/callback`,
        }),
      });
      assert.equal(exchange.status, 200, await exchange.clone().text());
      const grant = (await exchange.json()) as { access_token: string; refresh_token: string };
      const tokens = (running.get('token-service') as ServiceProcess).url;
      const asAuth = {
        authorization: `Bearer ${secrets.authServiceCredential}`,
        'content-type': 'application/json',
      };
      const connectionId = crypto.randomUUID();
      const now = Date.now();
      const stored = await fetch(`${tokens}/internal/connections/${connectionId}/credentials`, {
        method: 'PUT',
        headers: asAuth,
        body: JSON.stringify({
          orgId: 'org-secured-2',
          realmId: callback.searchParams.get('realmId'),
          environment: 'sandbox',
          accessToken: grant.access_token,
          refreshToken: grant.refresh_token,
          accessTokenExpiresAt: new Date(now + 3_600_000).toISOString(),
          refreshTokenExpiresAt: new Date(now + 8_726_400_000).toISOString(),
          scopes: ['com.intuit.quickbooks.accounting'],
        }),
      });
      assert.ok(stored.ok, await stored.text());
      const revoked = await fetch(`${tokens}/internal/connections/${connectionId}/revoke`, {
        method: 'POST',
        headers: asAuth,
        body: '{}',
      });
      assert.deepEqual(await revoked.json(), { connectionId, revokedAtIntuit: true });
      await waitFor(() => published(topics.tokens, 'token-service', 'ConnectionDeactivated'), {
        timeoutMs: 30_000,
        what: 'token-service published the revoked grant',
      });

      // sync-service: the connection of the earlier webhook case had no grant; its run is on the runs topic.
      await waitFor(() => published(topics.syncRuns, 'sync-service', 'SyncStarted'), {
        timeoutMs: 30_000,
        what: 'sync-service published a run',
      });
    } finally {
      simulator.kill('SIGTERM');
      await once(simulator, 'exit').catch(() => undefined);
    }
  });

  attack("another service's credential cannot produce to a topic it does not own", async () => {
    const topic = names.physical(topics.connections);
    const before = await highWatermark(topic);
    const forger = clientAs('sync-service').producer();
    await forger.connect();
    try {
      await assert.rejects(
        forger.send({
          topic,
          messages: [{ key: 'org-secured', value: JSON.stringify({ type: 'ConnectionDisconnected' }) }],
        }),
        /Not authorized to access topics/,
      );
    } finally {
      await forger.disconnect();
    }
    assert.equal(await highWatermark(topic), before, 'nothing was written to the topic');
  });

  attack("a service's credential cannot join another service's consumer group", async () => {
    /** Joins a group on the connections topic (which webhook-ingest may read) with webhook-ingest's user. */
    const join = async (groupId: string) => {
      // No restart after the crash: kafkajs would otherwise keep rejoining in the background.
      const consumer = clientAs('webhook-ingest').consumer({
        groupId,
        retry: { retries: 1, restartOnFailure: async () => false },
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: names.physical(topics.connections), fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
          consumer.on(consumer.events.GROUP_JOIN, () => resolve());
          consumer.run({ eachMessage: async () => undefined }).catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
    };
    const victim = `${prefix}auth-service.status-view`;
    // kafkajs reports the refused FindCoordinator as "Failed to find group coordinator".
    await assert.rejects(join(victim), /group coordinator|not authorized/i);
    const a = admin.admin();
    await a.connect();
    try {
      const { groups } = await a.describeGroups([victim]);
      assert.deepEqual(
        groups[0]?.members.map((m) => m.clientId),
        ['auth-service'],
        'the group still has only auth-service in it',
      );
    } finally {
      await a.disconnect();
    }
    // The same user joins a group under its own prefix: the refusal above is the group ACL, not the client.
    await join(`${prefix}webhook-ingest.probe`);
  });

  it('refuses to start with a wrong password, saying so without printing it', async () => {
    const wrong = `wrong-password-${crypto.randomUUID()}`;
    const proc = await start(
      'webhook-ingest',
      envOf('webhook-ingest', { KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: wrong, PORT: '0' }),
      false,
    );
    assert.equal(await proc.exited, 1);
    const failed = proc.logs.find((l) => l.msg === 'start-up failed');
    assert.ok(failed, proc.output());
    assert.match(JSON.stringify(failed.err), /authentication failed.*invalid credentials/i);
    assert.ok(!proc.output().includes(wrong), 'the password appears nowhere in the output');
  });

  it("refuses to start without the broker's CA, saying the certificate is not trusted", async () => {
    const proc = await start(
      'webhook-ingest',
      envOf('webhook-ingest', { KAFKA_SSL_CA_FILE: undefined, PORT: '0' }),
      false,
    );
    assert.equal(await proc.exited, 1);
    const failed = proc.logs.find((l) => l.msg === 'start-up failed');
    assert.ok(failed, proc.output());
    assert.match(
      JSON.stringify(failed.err),
      /not trusted \(SELF_SIGNED_CERT_IN_CHAIN\): KAFKA_SSL_CA \(or KAFKA_SSL_CA_FILE\) must hold the CA/,
    );
    assert.ok(!proc.output().includes(passwords['webhook-ingest']), 'the password appears nowhere');
  });

  it('refuses to start when the CA file is missing, naming the variable', async () => {
    const proc = await start(
      'webhook-ingest',
      envOf('webhook-ingest', { KAFKA_SSL_CA_FILE: join(dir, 'no-such-ca.pem'), PORT: '0' }),
      false,
    );
    assert.equal(await proc.exited, 1);
    const fatal = proc.logs.find((l) => l.msg === 'invalid configuration');
    assert.deepEqual(fatal?.problems, ['KAFKA_SSL_CA_FILE: cannot read the file it names'], proc.output());
  });

  it('never printed a SCRAM password in any service’s output', () => {
    for (const [name, proc] of running) {
      for (const password of Object.values(passwords)) {
        assert.ok(!proc.output().includes(password), `${name}'s output holds a password`);
      }
    }
  });
});
