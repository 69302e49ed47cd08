import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OAuthClient from 'intuit-oauth';
import { createSimulator, type Simulator } from './index.js';

let sim: Simulator;
const saved = { jwks: OAuthClient.jwks_uri, sandbox: OAuthClient.environment.sandbox };

before(async () => {
  sim = await createSimulator({ seed: { seed: 7, companies: 1, records: 20 } });
  // The only configuration the client needs: its base URLs (qbo-api-facts §9.1).
  OAuthClient.jwks_uri = `${sim.url}/op/v1/jwks`;
  OAuthClient.environment.sandbox = `${sim.url}/`;
});

after(async () => {
  OAuthClient.jwks_uri = saved.jwks;
  OAuthClient.environment.sandbox = saved.sandbox;
  await sim.close();
});

function client() {
  const oauth = new OAuthClient({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    environment: 'sandbox',
    redirectUri: 'http://localhost:3000/callback',
  });
  oauth.setAuthorizeURLs({
    authorizeEndpoint: `${sim.url}/connect/oauth2`,
    tokenEndpoint: `${sim.url}/oauth2/v1/tokens/bearer`,
    revokeEndpoint: `${sim.url}/v2/oauth2/tokens/revoke`,
    userInfoEndpoint: `${sim.url}/v1/openid_connect/userinfo`,
  });
  return oauth;
}

async function connected() {
  const oauth = client();
  const uri = oauth.authorizeUri({
    scope: [OAuthClient.scopes.Accounting, OAuthClient.scopes.OpenId],
    state: 'st123',
  });
  const consent = await fetch(uri, { redirect: 'manual' });
  const callback = consent.headers.get('location') ?? '';
  await oauth.createToken(callback);
  return { oauth, callback };
}

test('intuit-oauth completes createToken and keeps the realmId from the callback', async () => {
  const { oauth, callback } = await connected();
  const realmId = sim.control.companies()[0]?.realmId;
  assert.ok(callback.includes('state=st123'));
  assert.equal(oauth.getToken().realmId, realmId);
  assert.ok(oauth.isAccessTokenValid());
  assert.equal(oauth.getToken().x_refresh_token_expires_in, 8_726_400);
});

test('intuit-oauth validates the ID token against the simulator JWKS', async () => {
  const { oauth } = await connected();
  assert.equal(await oauth.validateIdToken(), true);
});

test('intuit-oauth refreshes and calls the Accounting API with the new token', async () => {
  const { oauth } = await connected();
  const before = oauth.getToken().access_token;
  await oauth.refresh();
  assert.notEqual(oauth.getToken().access_token, before);
  const realmId = oauth.getToken().realmId;
  const response = await oauth.makeApiCall({ url: `v3/company/${realmId}/companyinfo/${realmId}` });
  assert.equal((response.json as { CompanyInfo: { Country: string } }).CompanyInfo.Country, 'US');
});

test('intuit-oauth revokes, after which the old refresh token gets invalid_grant', async () => {
  const { oauth } = await connected();
  const refreshToken = oauth.getToken().refresh_token;
  await oauth.revoke();
  await assert.rejects(
    oauth.refreshUsingToken(refreshToken),
    (err: { error?: string; authResponse?: { json?: { error?: string } } }) => {
      assert.equal(err.authResponse?.json?.error ?? err.error, 'invalid_grant');
      return true;
    },
  );
});
