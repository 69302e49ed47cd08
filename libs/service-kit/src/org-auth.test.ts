import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { importPKCS8, SignJWT, UnsecuredJWT } from 'jose';
import { createJwtOrgVerifier } from './org-auth.js';

const secret = 'platform-secret-0123456789abcdefghijkl';
const base = { issuer: 'https://platform.test', audience: 'qbo-auth', orgClaim: 'org_id', orgFromSub: false };
const key = new TextEncoder().encode(secret);

const sign = (
  claims: Record<string, unknown>,
  o: { exp?: string | number; iss?: string; aud?: string } = {},
) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(o.iss ?? base.issuer)
    .setAudience(o.aud ?? base.audience)
    .setExpirationTime(o.exp ?? '5m')
    .sign(key);

describe('JWT org verifier', () => {
  it('refuses a valid credential naming the reserved org `_unknown` with 403 org_reserved, from the claim or sub', async () => {
    const v = await createJwtOrgVerifier({ ...base, secret });
    await assert.rejects(v.verify(`Bearer ${await sign({ org_id: '_unknown', sub: 'user-9' })}`), {
      code: 'org_reserved',
      status: 403,
    });
    const fromSub = await createJwtOrgVerifier({ ...base, secret, orgFromSub: true });
    await assert.rejects(fromSub.verify(`Bearer ${await sign({ sub: '_unknown' })}`), {
      code: 'org_reserved',
    });
    assert.deepEqual(await v.verify(`Bearer ${await sign({ org_id: '_unknown-not' })}`), {
      orgId: '_unknown-not',
    });
  });

  it('accepts a valid HS256 token and reads the org (and the user from sub)', async () => {
    const v = await createJwtOrgVerifier({ ...base, secret });
    const token = await sign({ org_id: 'org-1', sub: 'user-9' });
    assert.deepEqual(await v.verify(`Bearer ${token}`), { orgId: 'org-1', userId: 'user-9' });
  });

  it('refuses missing, malformed, expired, foreign-issuer, foreign-audience and wrongly signed tokens', async () => {
    const v = await createJwtOrgVerifier({ ...base, secret });
    const wrongKey = await new SignJWT({ org_id: 'org-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-0123456789abcdefghijkl'));
    const cases = [
      undefined,
      '',
      'Bearer',
      'Basic abc',
      `Bearer ${await sign({ org_id: 'org-1' }, { exp: Math.floor(Date.now() / 1000) - 60 })}`,
      `Bearer ${await sign({ org_id: 'org-1' }, { iss: 'https://evil.test' })}`,
      `Bearer ${await sign({ org_id: 'org-1' }, { aud: 'another-service' })}`,
      `Bearer ${wrongKey}`,
      `Bearer ${new UnsecuredJWT({ org_id: 'org-1' }).setIssuer(base.issuer).setAudience(base.audience).setExpirationTime('5m').encode()}`,
    ];
    for (const header of cases) assert.equal(await v.verify(header), undefined, String(header));
  });

  it('marks a credential with role "operator" as an operator, and no other role', async () => {
    const v = await createJwtOrgVerifier({ ...base, secret });
    assert.deepEqual(await v.verify(`Bearer ${await sign({ org_id: 'ops', role: 'operator' })}`), {
      orgId: 'ops',
      operator: true,
    });
    assert.deepEqual(await v.verify(`Bearer ${await sign({ org_id: 'org-1', role: 'admin' })}`), {
      orgId: 'org-1',
    });
    assert.deepEqual(await v.verify(`Bearer ${await sign({ org_id: 'org-1', role: ['operator'] })}`), {
      orgId: 'org-1',
    });
  });

  it('requires an expiry', async () => {
    const v = await createJwtOrgVerifier({ ...base, secret });
    const noExp = await new SignJWT({ org_id: 'org-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .sign(key);
    assert.equal(await v.verify(`Bearer ${noExp}`), undefined);
  });

  it('takes the org from sub only when configured, and only a well-formed org id', async () => {
    const strict = await createJwtOrgVerifier({ ...base, secret });
    const lenient = await createJwtOrgVerifier({ ...base, secret, orgFromSub: true });
    const subOnly = await sign({ sub: 'org-7' });
    assert.equal(await strict.verify(`Bearer ${subOnly}`), undefined);
    assert.deepEqual(await lenient.verify(`Bearer ${subOnly}`), { orgId: 'org-7' });
    assert.equal(await strict.verify(`Bearer ${await sign({ org_id: 'org 1; drop' })}`), undefined);
  });

  it('verifies RS256 with a configured public key and refuses an HS256 token signed with that key text', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const v = await createJwtOrgVerifier({ ...base, publicKeyPem });
    const rs = await new SignJWT({ org_id: 'org-rs' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setExpirationTime('5m')
      .sign(await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256'));
    assert.deepEqual(await v.verify(`Bearer ${rs}`), { orgId: 'org-rs' });
    const confused = await new SignJWT({ org_id: 'org-rs' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicKeyPem));
    assert.equal(await v.verify(`Bearer ${confused}`), undefined);
  });

  it('refuses to be built without any key', async () => {
    await assert.rejects(createJwtOrgVerifier(base), /secret, a public key or a JWKS URL/);
  });
});
