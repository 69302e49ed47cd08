import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQboError, type QboError } from '@qbo/qbo-client';
import { TokenServiceError } from '@qbo/token-api';
import { createFakeTokenApi } from '../testing/fake-token-api.js';
import { type ConnectionOfRealm, createTokenApiProvider } from './token-api-provider.js';

const REALM = '9130350000000001';
const SECRET = 'eyJ.secret-token-that-must-not-leak';

function setup(connectionOf: ConnectionOfRealm = (realmId) => (realmId === REALM ? 'conn-1' : undefined)) {
  const api = createFakeTokenApi();
  api.hold('conn-1', REALM, 'access-conn-1-v1');
  return { api, provider: createTokenApiProvider({ tokens: api, connectionOf }) };
}

const failure = (promise: Promise<unknown>): Promise<QboError> =>
  promise.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => {
      assert.ok(isQboError(err), `a QboError, got ${String(err)}`);
      return err;
    },
  );

describe('token provider over the token-service API', () => {
  it("hands out the token of the realm's connection, with the validity asked for", async () => {
    const api = createFakeTokenApi();
    api.hold('conn-1', REALM, 'access-conn-1-v1');
    const provider = createTokenApiProvider({
      tokens: api,
      connectionOf: async () => 'conn-1',
      minValiditySeconds: 120,
    });
    assert.equal(await provider.getAccessToken(REALM), 'access-conn-1-v1');
    assert.deepEqual(api.requests, ['get(120s) conn-1']);
  });

  it('sends 20 callers rejected with the same token to the token-service as one refresh request', async () => {
    const { api, provider } = setup();
    const slow = api.pause();
    const tokens = Array.from({ length: 20 }, () =>
      provider.refreshAfterRejection(REALM, 'access-conn-1-v1'),
    );
    slow.release();
    assert.deepEqual(new Set(await Promise.all(tokens)), new Set(['access-conn-1-v2']));
    assert.deepEqual(api.requests, ['refresh conn-1']);
    assert.equal(api.refreshes, 1);
  });

  it('leaves the compare to the token-service: a token already replaced comes back without a refresh', async () => {
    const { api, provider } = setup();
    assert.equal(await provider.refreshAfterRejection(REALM, 'access-conn-1-v1'), 'access-conn-1-v2');
    assert.equal(await provider.refreshAfterRejection(REALM, 'access-conn-1-v1'), 'access-conn-1-v2');
    assert.deepEqual(api.requests, ['refresh conn-1', 'refresh conn-1']);
    assert.equal(api.refreshes, 1);
  });

  it('never merges callers rejected with different tokens', async () => {
    const { api, provider } = setup();
    const slow = api.pause();
    const both = Promise.all([
      provider.refreshAfterRejection(REALM, 'access-conn-1-v1'),
      provider.refreshAfterRejection(REALM, 'a-token-from-before'),
    ]);
    slow.release();
    assert.deepEqual(await both, ['access-conn-1-v2', 'access-conn-1-v2']);
    assert.equal(api.requests.length, 2);
    assert.equal(api.refreshes, 1);
  });

  it('reports a token-service it cannot reach, or that does not answer, as a network failure', async () => {
    for (const code of ['unreachable', 'timeout'] as const) {
      const { api, provider } = setup();
      api.fail('conn-1', new TokenServiceError(code, `token-service get access token: ${code}`));
      const err = await failure(provider.getAccessToken(REALM));
      assert.equal(err.category, 'network');
      assert.equal(err.code, code);
      assert.equal(err.retryable, true);
    }
  });

  it('reports a dead or disconnected grant as an auth failure carrying the code and no word of the cause', async () => {
    for (const code of ['reauthorization_required', 'connection_disconnected'] as const) {
      const { api, provider } = setup();
      api.fail('conn-1', new TokenServiceError(code, `a message quoting ${SECRET}`, { httpStatus: 409 }));
      const err = await failure(provider.refreshAfterRejection(REALM, SECRET));
      assert.equal(err.category, 'auth');
      assert.equal(err.code, code);
      assert.equal(err.retryable, false);
      assert.equal(err.status, undefined, "the token-service's status is not passed off as Intuit's");
      assert.equal(err.cause, undefined);
      const everything = `${err.message} ${String(err.stack)} ${JSON.stringify(err)}`;
      assert.doesNotMatch(everything, /must-not-leak/);
    }
  });

  it("reports the platform's own trouble as retryable, never as the customer's grant", async () => {
    for (const code of ['refresh_unavailable', 'app_credentials_rejected', 'unauthenticated'] as const) {
      const { api, provider } = setup();
      api.fail('conn-1', new TokenServiceError(code, `token-service refresh: 503 ${code}`));
      const err = await failure(provider.refreshAfterRejection(REALM, 'access-conn-1-v1'));
      assert.equal(err.category, 'server');
      assert.equal(err.code, code);
      assert.equal(err.retryable, true);
    }
  });

  it('refuses a realm no connection holds, naming it, without asking the token-service', async () => {
    const { api, provider } = setup();
    const err = await failure(provider.getAccessToken('4620816365000000002'));
    assert.equal(err.category, 'auth');
    assert.equal(err.code, 'realm_not_connected');
    assert.match(err.message, /4620816365000000002/);
    assert.deepEqual(api.requests, []);
  });

  it('reports a failed connection lookup as retryable, keeping its cause', async () => {
    const down = new Error('connection projection unavailable');
    const { api, provider } = setup(() => Promise.reject(down));
    const err = await failure(provider.getAccessToken(REALM));
    assert.equal(err.category, 'network');
    assert.equal(err.code, 'connection_lookup_failed');
    assert.equal(err.cause, down);
    assert.deepEqual(api.requests, []);
  });

  it('refuses a token the token-service holds for another realm', async () => {
    const { api, provider } = setup(() => 'conn-2');
    api.hold('conn-2', '4620816365000000002', 'access-of-another-company');
    const err = await failure(provider.getAccessToken(REALM));
    assert.equal(err.category, 'auth');
    assert.equal(err.code, 'connection_realm_mismatch');
    assert.doesNotMatch(err.message, /access-of-another-company/);
  });
});
