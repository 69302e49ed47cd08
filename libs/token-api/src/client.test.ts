import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTokenServiceClient, TokenServiceError } from './client.js';
import { verifyServiceCredential } from './service-credential.js';

const SECRET_TOKEN = 'eyJhbGciOi.access-token-that-must-not-leak';
const requests: { method: string; url: string; auth: string | undefined; body: string }[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void = () => {};
let baseUrl = '';

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
    answer(req, res);
  });
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const client = () =>
  createTokenServiceClient({ baseUrl, credential: () => 'svc-credential', timeoutMs: 500 });

describe('token-service client', () => {
  it('sends the service credential and parses a valid answer', async () => {
    answer = (_req, res) =>
      json(res, 200, {
        connectionId: 'conn-1',
        realmId: '123',
        accessToken: SECRET_TOKEN,
        accessTokenExpiresAt: '2026-11-25T16:00:00.000Z',
        credentialVersion: 3,
      });
    const token = await client().getAccessToken('conn-1', { minValiditySeconds: 120 });
    assert.equal(token.accessToken, SECRET_TOKEN);
    const last = requests.at(-1);
    assert.equal(last?.auth, 'Bearer svc-credential');
    assert.equal(last?.url, '/internal/connections/conn-1/access-token?minValiditySeconds=120');
  });

  it('posts the rejected token for a compare-and-refresh', async () => {
    answer = (_req, res) =>
      json(res, 200, {
        connectionId: 'conn-1',
        realmId: '123',
        accessToken: 'new',
        accessTokenExpiresAt: '2026-11-25T16:00:00.000Z',
        credentialVersion: 4,
      });
    await client().refreshAfterRejection('conn-1', SECRET_TOKEN);
    assert.deepEqual(JSON.parse(requests.at(-1)?.body ?? ''), { rejectedAccessToken: SECRET_TOKEN });
  });

  it('maps a problem body to its code, with Retry-After and retryability', async () => {
    answer = (_req, res) =>
      json(
        res,
        503,
        { title: 'Intuit unavailable', status: 503, code: 'refresh_unavailable' },
        { 'retry-after': '7' },
      );
    const err = await client()
      .getAccessToken('conn-1')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TokenServiceError);
    assert.equal(err.code, 'refresh_unavailable');
    assert.equal(err.httpStatus, 503);
    assert.equal(err.retryAfterMs, 7000);
    assert.equal(err.retryable, true);
    assert.equal((err as { status?: unknown }).status, undefined);
  });

  it('treats a terminal code as not retryable', async () => {
    answer = (_req, res) => json(res, 409, { title: 'x', status: 409, code: 'reauthorization_required' });
    const err = await client()
      .getAccessToken('conn-1')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TokenServiceError);
    assert.equal(err.code, 'reauthorization_required');
    assert.equal(err.retryable, false);
  });

  it('refuses an answer that breaks the contract without quoting it', async () => {
    answer = (_req, res) => json(res, 200, { accessToken: SECRET_TOKEN });
    const err = await client()
      .getAccessToken('conn-1')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TokenServiceError);
    assert.equal(err.code, 'bad_response');
    assert.doesNotMatch(`${err.message} ${String(err.stack)} ${JSON.stringify(err)}`, /must-not-leak/);
  });

  it('reports a timeout and an unreachable service without the request body', async () => {
    answer = () => {}; // never answers
    const slow = await client()
      .storeCredentials('conn-1', {
        orgId: 'org-1',
        realmId: '123',
        environment: 'sandbox',
        accessToken: SECRET_TOKEN,
        refreshToken: SECRET_TOKEN,
        accessTokenExpiresAt: '2026-11-25T16:00:00.000Z',
        refreshTokenExpiresAt: '2027-03-05T16:00:00.000Z',
        scopes: ['com.intuit.quickbooks.accounting'],
      })
      .catch((e: unknown) => e);
    assert.ok(slow instanceof TokenServiceError);
    assert.equal(slow.code, 'timeout');
    assert.equal(slow.retryable, true);
    assert.doesNotMatch(`${slow.message} ${String(slow.stack)}`, /must-not-leak/);

    const down = await createTokenServiceClient({ baseUrl: 'http://127.0.0.1:9', credential: () => 'x' })
      .status('conn-1')
      .catch((e: unknown) => e);
    assert.ok(down instanceof TokenServiceError);
    assert.equal(down.code, 'unreachable');
  });
});

describe('verifyServiceCredential', () => {
  it('accepts any of the configured credentials and nothing else', () => {
    assert.equal(
      verifyServiceCredential('Bearer new-credential', ['old-credential', 'new-credential']),
      true,
    );
    assert.equal(
      verifyServiceCredential('Bearer old-credential', ['old-credential', 'new-credential']),
      true,
    );
    assert.equal(verifyServiceCredential('Bearer other', ['old-credential']), false);
    assert.equal(verifyServiceCredential('Basic old-credential', ['old-credential']), false);
    assert.equal(verifyServiceCredential(undefined, ['old-credential']), false);
    assert.equal(verifyServiceCredential('Bearer ', ['']), false);
  });
});
