import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger({ service: 'test', level: 'debug', destination });
  return {
    log,
    text: () => lines.join('\n'),
    json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const FAKE = 'tok-5f3c9a1e77b24e0c';

describe('logger redaction', () => {
  it('redacts every field named like a secret, at any depth', () => {
    const { log, text, json } = capture();
    log.info(
      {
        token: FAKE,
        refresh_token: FAKE,
        access_token: FAKE,
        secret: FAKE,
        password: FAKE,
        authorization: FAKE,
        cookie: FAKE,
        code: FAKE,
        nested: { deeper: { clientSecret: FAKE, 'x-refresh-token': FAKE, list: [{ idToken: FAKE }] } },
        req: { headers: { Authorization: FAKE, 'intuit-signature': FAKE, 'set-cookie': [FAKE] } },
        realmId: '4625319964620932638',
      },
      'token refreshed',
    );
    assert.doesNotMatch(text(), new RegExp(FAKE));
    const [line] = json();
    assert.equal(line?.token, '[REDACTED]');
    assert.equal(line?.realmId, '4625319964620932638', 'ordinary fields stay');
    assert.equal(line?.msg, 'token refreshed');
  });

  it('redacts secrets inside errors but keeps their machine codes', () => {
    const { log, text, json } = capture();
    const err = Object.assign(new Error('refresh failed'), {
      code: 'invalid_grant',
      response: { data: { refresh_token: FAKE }, headers: { authorization: `Bearer ${FAKE}` } },
    });
    log.error({ err }, 'refresh failed');
    assert.doesNotMatch(text(), new RegExp(FAKE));
    const logged = json()[0]?.err as Record<string, unknown>;
    assert.equal(logged.code, 'invalid_grant');
    assert.equal(logged.message, 'refresh failed');
  });

  it('scrubs bearer credentials and JWT-shaped values wherever they appear', () => {
    const { log, text } = capture();
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl';
    log.warn({ header: `Bearer ${FAKE}`, note: `got ${jwt} back` }, `calling with Basic ${FAKE}`);
    assert.doesNotMatch(text(), new RegExp(`${FAKE}|${jwt.slice(0, 20)}`));
    assert.match(text(), /Bearer \[REDACTED\]/);
  });

  it('survives cycles', () => {
    const { log, json } = capture();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    log.info({ a }, 'cyclic');
    const line = json()[0] as { a: Record<string, unknown> };
    assert.equal(line.a.self, '[Circular]');
  });
});
