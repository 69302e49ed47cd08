import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe } from 'node:test';
import { topics } from '@qbo/events';
import { attack, readToEnd, uniqueName, waitFor } from '@qbo/testkit';
import { connectSuite, read } from './testing/connect-suite.js';
import { Browser } from './testing/harness.js';

/** A GET from a chosen local address (the loopback /8 is all ours): a client the service does not trust. */
function getFrom(localAddress: string, url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { localAddress, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hostile callers of auth-service: a process, simulator as Intuit, Kafka, Postgres, Redis', () => {
  const t = connectSuite('auth-hostile');

  /** What an outsider sees of a callback answer: status, content type and the problem body. */
  const seen = async (res: Response) => ({
    status: res.status,
    type: res.headers.get('content-type'),
    body: await res.json(),
  });

  attack(
    'a callback naming another org’s realm answers exactly like one naming a realm nobody holds',
    async () => {
      const held = t.freshRealm();
      await t.connect('org-holder', held);
      const unheld = t.freshRealm();
      const answers = [];
      for (const claimed of [held, unheld]) {
        const br = t.browser();
        const { callbackUrl } = await t.startFlow(br, 'org-prober', { realmId: t.freshRealm() });
        callbackUrl.searchParams.set('realmId', claimed);
        const exchanges = t.tokenEndpointCalls();
        const res = await br.callback(callbackUrl, 'application/json');
        assert.notEqual(res.status, 409, 'no answer tells the realm is held');
        assert.equal(t.tokenEndpointCalls(), exchanges + 1, 'the answer comes only after a code exchange');
        answers.push(await seen(res));
      }
      assert.deepEqual(answers[0], answers[1]);
    },
  );

  attack(
    'a caller holding a grant for another org’s realm gets a failed exchange, and the grant is revoked',
    async () => {
      const held = t.freshRealm();
      await t.connect('org-rightful', held);

      const failed = t.browser();
      const attempt = await t.startFlow(failed, 'org-grabber', { realmId: t.freshRealm() });
      attempt.callbackUrl.searchParams.set('code', 'a-code-intuit-never-issued');
      const failedExchange = await seen(await failed.callback(attempt.callbackUrl, 'application/json'));

      const br = t.browser();
      const { callbackUrl } = await t.startFlow(br, 'org-grabber', { realmId: held });
      const exchanges = t.tokenEndpointCalls();
      const revokes = t.intuitRevokes();
      const res = await br.callback(callbackUrl, 'application/json');
      assert.equal(t.tokenEndpointCalls(), exchanges + 1, 'refused only after the exchange proved the grant');
      assert.deepEqual(await seen(res), failedExchange, 'indistinguishable from a failed exchange');
      await waitFor(async () => t.intuitRevokes() === revokes + 1, {
        what: 'the fresh grant revoked at Intuit',
      });
      assert.ok(!t.tokenService.stores.some((s) => s.body.orgId === 'org-grabber'), 'no tokens handed on');
      const owners = await t.db.query<{ org_id: string }>(
        `select org_id from auth.connection where realm_id = $1 and status <> 'disconnected'`,
        [held],
      );
      assert.deepEqual(
        owners.map((o) => o.org_id),
        ['org-rightful'],
      );
    },
  );

  attack('an org credential naming the reserved org `_unknown` is refused', async () => {
    const br = t.browser();
    const { res } = await br.initiate(t.a.url, await t.bearer('_unknown'));
    assert.ok(res.status === 401 || res.status === 403, `initiation answered ${res.status}`);
    assert.equal((await read(res)).code, 'org_reserved');
    assert.equal(br.cookies.size, 0, 'no connect attempt started');
    const list = await t.api('/connections', '_unknown');
    assert.ok(list.status === 401 || list.status === 403, `listing answered ${list.status}`);
    assert.equal((await read(list)).code, 'org_reserved');
  });

  attack(
    '200 refused callbacks leave a bounded audit trail on the audit topic and nothing on the connection stream',
    async () => {
      const refusals = 200;
      const started = Date.now();
      for (let i = 0; i < refusals; i++) {
        const br = new Browser(`198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`);
        const res = await br.callback(
          `${t.a.url}/oauth/callback?state=${randomBytes(32).toString('base64url')}&code=x&realmId=1`,
          'application/json',
        );
        assert.equal(res.status, 400);
      }
      // Per window (AUDIT_WINDOW_SECONDS=2 in the tests) at most five single events and one summary.
      const windows = Math.ceil((Date.now() - started) / 2000) + 1;
      const unknownOnAudit = async () => {
        const messages = await readToEnd(t.bus.names.physical(topics.connectionsAudit), {
          kafka: t.bus.kafka,
        });
        return messages
          .map((m) => JSON.parse(String(m.message.value)) as { orgId: string; data: Record<string, unknown> })
          .filter((e) => e.orgId === '_unknown' && e.data.reason === 'state_unknown');
      };
      await waitFor(
        async () => (await t.db.query('select 1 from auth.outbox where sent_at is null')).length === 0,
        { timeoutMs: 30_000, what: 'the outbox drained' },
      );
      const stream = await readToEnd(t.bus.names.physical(topics.connections), { kafka: t.bus.kafka });
      assert.deepEqual(
        stream.filter((m) => String(m.message.key) === '_unknown').length,
        0,
        'no refusal shares a key (or a partition) with real connection events',
      );
      assert.ok(
        !stream.some((m) => String(m.message.value).includes('ConnectAttemptRejected')),
        'the connection stream carries no audit events',
      );
      // Every refusal is counted: the sampled ones and the window's summary add up to all of them.
      let audited: Awaited<ReturnType<typeof unknownOnAudit>> = [];
      await waitFor(
        async () => {
          audited = await unknownOnAudit();
          return audited.reduce((n, e) => n + Number(e.data.count ?? 1), 0) >= refusals;
        },
        { timeoutMs: 30_000, what: 'the window summary on the audit topic' },
      );
      assert.ok(
        audited.length <= windows * 6,
        `${audited.length} audit events for ${refusals} refusals over ${windows} windows`,
      );
      assert.equal(
        audited.reduce((n, e) => n + Number(e.data.count ?? 1), 0),
        refusals,
      );
    },
  );

  attack(
    'X-Forwarded-For from a peer that is not a trusted proxy does not escape the callback rate limit',
    async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const { status } = await getFrom('127.0.0.2', `${t.a.url}/oauth/callback?state=s${i}`, {
          accept: 'application/json',
          'x-forwarded-for': `203.0.113.${i + 1}`,
        });
        statuses.push(status);
      }
      assert.ok(statuses.includes(429), `statuses ${statuses.join(',')}`);
      assert.equal(statuses.indexOf(429), 8, 'eight callbacks a window, whatever the header says');
    },
  );

  attack('IPv6 addresses of one /64 share one callback rate limit', async () => {
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const br = new Browser(`${prefix}:${randomBytes(2).toString('hex')}::${(i + 1).toString(16)}`);
      statuses.push((await br.callback(`${t.a.url}/oauth/callback?state=v${i}`, 'application/json')).status);
    }
    assert.equal(statuses.indexOf(429), 8, `statuses ${statuses.join(',')}`);
    const neighbour = new Browser(`2001:db8:ffff:${randomBytes(2).toString('hex')}::1`);
    const other = await neighbour.callback(
      `${t.a.url}/oauth/callback?state=${uniqueName('n')}`,
      'application/json',
    );
    assert.equal(other.status, 400, 'another /64 has its own limit');
  });
});
