import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { EventProducer } from '@qbo/event-bus';
import { createTestBus, createTestProducer, type TestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import {
  createTestDatabase,
  readToEnd,
  type ServiceProcess,
  type TestDatabase,
  testBrokers,
  uniqueName,
  waitFor,
} from '@qbo/testkit';
import {
  APP_ORIGIN,
  authEnv,
  Browser,
  CLIENT_SECRET,
  COOKIE_SECRET,
  freePort,
  orgToken,
  SERVICE_CREDENTIAL,
  startAuth,
  tokenCalls,
} from './harness.js';
import { startTokenServiceDouble, type TokenServiceDouble } from './token-service-double.js';

/** The fields the connect suites read from service answers. */
export interface Body {
  code?: string;
  status?: string;
  authorizeUrl?: string;
  realmId?: string;
  lastSyncAt?: string | null;
  deactivationReason?: string | null;
  reconnectUrl?: string | null;
  connections?: { id: string }[];
}
export const read = async (res: Response | undefined): Promise<Body> => ((await res?.json()) ?? {}) as Body;

export type Envelope = { type: string; orgId: string; realmId?: string; data: Record<string, unknown> };

interface Infrastructure {
  db: TestDatabase;
  bus: TestBus;
  sim: Simulator;
  tokenService: TokenServiceDouble;
  a: ServiceProcess;
  b: ServiceProcess | undefined;
  producer: EventProducer;
  realms: string[];
}

/**
 * The connect flow over real HTTP, shared by its suites: the simulator as Intuit, a token-service double,
 * Kafka, Postgres and Redis, and auth-service as a process (`replicas: 2` adds a second one behind the same
 * redirect URI, sharing the database, Kafka and the rate-limit store). Call it inside a `describe`: it adds
 * the hooks that start and stop all of it.
 */
export function connectSuite(
  label: string,
  {
    replicas = 1,
    env: extraEnv = () => ({}),
  }: {
    replicas?: 1 | 2;
    /** More environment for the auth-service processes, read when they start (after earlier `before` hooks). */
    env?: () => Record<string, string>;
  } = {},
) {
  let infra: Infrastructure | undefined;
  const started = () => {
    if (!infra) throw new Error('the connect suite has not started');
    return infra;
  };
  /** Every state, code and org credential the suite handled: none may leak. */
  const handled = { states: new Set<string>(), codes: new Set<string>(), bearers: new Set<string>() };
  let ipSeq = 0;

  before(async () => {
    const db = await createTestDatabase(label);
    const bus = await createTestBus({
      topics: [topics.connections, topics.connectionsAudit, topics.tokens, topics.syncRuns],
    });
    const rateLimitPrefix = uniqueName('rl');
    // The redirect URI registered at Intuit names the first replica's port, so the port is chosen up front;
    // another suite may take it in between, hence the retry.
    let tokenService: TokenServiceDouble | undefined;
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const redirectUri = `http://127.0.0.1:${port}/oauth/callback`;
      const sim = await createSimulator({
        seed: { seed: 11, companies: 4, records: 5 },
        consent: 'auto',
        control: true,
        apps: [{ clientId: 'sim-client-id', clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }],
      });
      tokenService ??= await startTokenServiceDouble({ credential: SERVICE_CREDENTIAL });
      tokenService.intuitRevokeUrl = `${sim.url}/v2/oauth2/tokens/revoke`;
      const env = authEnv({
        databaseUrl: db.url,
        brokers: testBrokers(),
        topicPrefix: bus.prefix,
        simUrl: sim.url,
        tokenServiceUrl: tokenService.url,
        redirectUri,
        rateLimitPrefix,
      });
      Object.assign(env, extraEnv());
      let a: ServiceProcess;
      try {
        a = await startAuth({ ...env, PORT: String(port) });
      } catch (err) {
        await sim.close();
        if (attempt >= 3) throw err;
        continue;
      }
      const b = replicas === 2 ? await startAuth(env) : undefined;
      const producer = await createTestProducer(bus);
      const realms = sim.control.companies().map((c) => c.realmId);
      infra = { db, bus, sim, tokenService, a, b, producer, realms };
      return;
    }
  });

  after(async () => {
    await infra?.producer.disconnect();
    await Promise.all([infra?.a.stop(), infra?.b?.stop()]);
    await infra?.tokenService.close();
    await infra?.sim.close();
    await infra?.db.drop();
  });

  const bearer = async (orgId: string) => {
    const t = await orgToken(orgId);
    handled.bearers.add(t);
    return t;
  };

  /** Initiate → consent → callback; the consent's redirect carries the state and code the suite tracks. */
  async function startFlow(
    br: Browser,
    orgId: string,
    o: { realmId?: string; service?: ServiceProcess } = {},
  ) {
    const service = o.service ?? started().a;
    const { res, authorizeUrl } = await br.initiate(
      service.url,
      await bearer(orgId),
      `${APP_ORIGIN}/settings`,
    );
    assert.equal(res.status, 200, 'initiated');
    assert.ok(authorizeUrl);
    const state = new URL(authorizeUrl).searchParams.get('state') ?? '';
    handled.states.add(state);
    if (o.realmId) started().sim.control.nextConsent({ decision: 'approve', realmId: o.realmId });
    const callbackUrl = await br.consent(authorizeUrl);
    const code = callbackUrl.searchParams.get('code');
    if (code) handled.codes.add(code);
    return { state, callbackUrl, authorizeUrl };
  }

  const browser = () => new Browser(`198.51.100.${++ipSeq}`);

  async function connect(orgId: string, realmId: string) {
    const br = browser();
    const { callbackUrl } = await startFlow(br, orgId, { realmId });
    const res = await br.callback(callbackUrl);
    assert.equal(res.status, 303, await res.text());
    const location = new URL(res.headers.get('location') ?? '');
    return { res, location, connectionId: location.searchParams.get('connection') ?? '' };
  }

  const outboxEvents = async (type?: string): Promise<Envelope[]> =>
    (
      await started().db.query<{ payload: Envelope }>(
        `select payload from auth.outbox ${type ? 'where type = $1' : ''} order by seq`,
        type ? [type] : [],
      )
    ).map((r) => r.payload);

  /**
   * The suite's closing test: no token, code, state, credential or secret in any log line, event or response
   * it caused, and no error logged but `errors`. `material` is the least the suite handled, so the scan
   * cannot pass on nothing.
   */
  function itLeaksNothing({
    material,
    errors,
  }: {
    material: { tokens: number; codes: number; states: number };
    errors: string[];
  }) {
    it('no token, code, state, credential or secret in any log line, event or response of the suite', async () => {
      const { db, bus, tokenService, a, b } = started();
      await waitFor(
        async () => (await db.query('select 1 from auth.outbox where sent_at is null')).length === 0,
        { timeoutMs: 30_000, what: 'the outbox drained' },
      );
      // The events sent so far, taken before the topics are read: a job may add more while they are.
      const sent = await db.query<{ id: string }>(
        `select payload->>'id' as id from auth.outbox where sent_at is not null and payload->>'id' is not null`,
      );
      const messages = [
        ...(await readToEnd(bus.names.physical(topics.connections), { kafka: bus.kafka })),
        ...(await readToEnd(bus.names.physical(topics.connectionsAudit), { kafka: bus.kafka })),
      ];
      const eventText = messages.map((m) => String(m.message.value)).join('\n');
      const missing = sent.filter((e) => !eventText.includes(e.id));
      assert.ok(sent.length > 0 && missing.length === 0, 'every sent event of the outbox is on its topic');
      const tokens = tokenService.stores.flatMap((s) => [s.body.accessToken, s.body.refreshToken]);
      assert.ok(
        tokens.length >= material.tokens &&
          handled.codes.size >= material.codes &&
          handled.states.size >= material.states,
        'the scan has material',
      );
      const neverAnywhere = [
        ...tokens,
        ...handled.codes,
        ...handled.bearers,
        CLIENT_SECRET,
        COOKIE_SECRET,
        SERVICE_CREDENTIAL,
      ];
      const logs = a.output() + (b?.output() ?? '');
      const responses = Browser.seen.map((r) => `${r.headers}\n${r.body}`).join('\n');
      for (const secret of neverAnywhere) {
        assert.ok(!logs.includes(secret), 'a secret reached a log line');
        assert.ok(!eventText.includes(secret), 'a secret reached an event');
        assert.ok(!responses.includes(secret), 'a secret reached a response');
      }
      // A state appears once by design, in the initiate answer's authorize URL; never in logs, events or callbacks.
      const callbackResponses = Browser.seen
        .filter((r) => r.url.includes('/oauth/callback') || r.url.includes('/connections'))
        .map((r) => `${r.headers}\n${r.body}`)
        .join('\n');
      for (const state of handled.states) {
        assert.ok(!logs.includes(state), 'a state reached a log line');
        assert.ok(!eventText.includes(state), 'a state reached an event');
        assert.ok(!callbackResponses.includes(state), 'a state was echoed');
      }
      assert.ok(
        a.logs.some((l) => l.msg === 'connect attempt rejected'),
        'the scan read real log output',
      );
      // kafkajs reports group rebalances as errors; those are its own.
      const logged = [...a.logs, ...(b?.logs ?? [])].filter(
        (l) => (l.level === 'error' || l.level === 'fatal') && l.component !== 'kafkajs',
      );
      assert.deepEqual([...new Set(logged.map((l) => l.msg))], errors);
    });
  }

  return {
    get db() {
      return started().db;
    },
    get bus() {
      return started().bus;
    },
    get sim() {
      return started().sim;
    },
    get tokenService() {
      return started().tokenService;
    },
    get a() {
      return started().a;
    },
    /** The second replica; only with `replicas: 2`. */
    get b() {
      const { b } = started();
      if (!b) throw new Error('this suite runs one replica');
      return b;
    },
    get producer() {
      return started().producer;
    },
    get realms() {
      return started().realms;
    },
    handled,
    bearer,
    browser,
    freshRealm: () => started().sim.control.createCompany({ name: uniqueName('company') }).realmId,
    startFlow,
    connect,
    outboxEvents,
    tokenEndpointCalls: () => tokenCalls(started().sim.control.counters()),
    intuitRevokes: () => started().sim.control.counters()['-']?.revoke?.calls ?? 0,
    api: async (path: string, orgId: string, init: RequestInit = {}) =>
      new Browser('192.0.2.1').fetch(`${started().a.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${await bearer(orgId)}` },
      }),
    itLeaksNothing,
  };
}

export type ConnectSuite = ReturnType<typeof connectSuite>;
