import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTestDatabase,
  type ServiceProcess,
  type TestDatabase,
  testBrokers,
  uniqueName,
} from '@qbo/testkit';
import { APP_ORIGIN, authEnv, Browser, orgToken, startAuth } from './testing/harness.js';

describe('connect endpoints when the rate-limit store is unreachable', () => {
  let db: TestDatabase;
  let service: ServiceProcess;

  before(async () => {
    db = await createTestDatabase('auth-redis-down');
    service = await startAuth({
      ...authEnv({
        databaseUrl: db.url,
        brokers: testBrokers(),
        topicPrefix: `${uniqueName('t')}.`,
        simUrl: 'http://127.0.0.1:9',
        tokenServiceUrl: 'http://127.0.0.1:9',
        redirectUri: 'http://127.0.0.1:9/oauth/callback',
        rateLimitPrefix: uniqueName('rl'),
      }),
      // Nothing listens on port 1.
      REDIS_URL: 'redis://127.0.0.1:1',
    });
  });
  after(async () => {
    await service?.stop();
    await db?.drop();
  });

  it('fails closed: 503 with Retry-After, no state created, while the connections API still answers', async () => {
    const br = new Browser('198.51.100.200');
    const { res } = await br.initiate(service.url, await orgToken('org-1'), `${APP_ORIGIN}/`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.equal(br.cookies.size, 0);
    assert.equal((await db.query('select 1 from auth.oauth_state')).length, 0);
    const callback = await br.callback(`${service.url}/oauth/callback?state=x`, 'application/json');
    assert.equal(callback.status, 503);
    const list = await fetch(`${service.url}/connections`, {
      headers: { authorization: `Bearer ${await orgToken('org-1')}` },
    });
    assert.equal(list.status, 200);
  });
});
