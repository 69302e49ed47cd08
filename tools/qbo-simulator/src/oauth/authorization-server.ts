import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newAccessToken, newAuthorizationCode, newRefreshToken } from '../random.js';
import { createIdTokenSigner, ISSUER } from './id-token.js';
import { grantsRealm, KNOWN_SCOPES, parseScopes } from './scopes.js';

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  /** Exact redirect URIs; empty accepts any http(s) URI (a local convenience Intuit does not offer). */
  redirectUris: string[];
}

export interface TokenPolicy {
  accessTokenSeconds: number;
  /** `x_refresh_token_expires_in` of a newly minted refresh token. */
  refreshTokenSeconds: number;
  /** How long a refresh token value is handed out again before a new value replaces it. */
  rotationSeconds: number;
  /** How long a replaced refresh token still works: 0 = strict (qbo-api-facts §1.5, open question). */
  rotatedGraceSeconds: number;
  /** The five-year cap from the grant's creation. */
  hardExpirySeconds: number;
  codeSeconds: number;
}

export const DEFAULT_TOKEN_POLICY: TokenPolicy = {
  accessTokenSeconds: 3600,
  refreshTokenSeconds: 8_726_400,
  rotationSeconds: 86_400,
  rotatedGraceSeconds: 0,
  hardExpirySeconds: 157_680_000,
  codeSeconds: 600,
};

interface Code {
  clientId: string;
  redirectUri: string;
  realmId: string | undefined;
  scopes: string[];
  expiresAt: number;
  used: boolean;
  challenge: { value: string; method: string } | undefined;
}

export interface Grant {
  id: string;
  clientId: string;
  realmId: string | undefined;
  scopes: string[];
  sub: string;
  createdMs: number;
  hardExpiresAt: number;
  revoked: boolean;
  refresh: { value: string; issuedAt: number; expiresAt: number };
  /** Replaced values, usable until `until` (the grace period). */
  previous: { value: string; until: number }[];
}

export interface AccessToken {
  grant: Grant;
  expiresAt: number;
  /** A public handle for error details, so a token never appears in a response. */
  handle: string;
}

export type TokenResult =
  | { ok: true; body: Record<string, unknown>; grant: Grant }
  | { ok: false; status: number; body: { error: string; error_description?: string }; grant?: Grant };

export type AuthResult =
  | { ok: true; token: AccessToken }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'revoked' | 'unknown'; handle?: string };

const err = (status: number, error: string, description?: string): TokenResult => ({
  ok: false,
  status,
  body: description ? { error, error_description: description } : { error },
});

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Intuit's OAuth 2.0 server state: apps, single-use codes, grants with refresh-token rotation as observed
 * (the same value for ~24 h with a shrinking `x_refresh_token_expires_in`, then a new one), access tokens
 * of one hour, revocation, and ID tokens signed RS256.
 */
export class AuthorizationServer {
  readonly apps = new Map<string, OAuthApp>();
  readonly policy: TokenPolicy;
  readonly #codes = new Map<string, Code>();
  readonly #refresh = new Map<string, Grant>();
  readonly #access = new Map<string, AccessToken>();
  readonly #grants = new Map<string, Grant>();
  readonly #signer = createIdTokenSigner();

  constructor(apps: readonly OAuthApp[], policy: TokenPolicy = DEFAULT_TOKEN_POLICY) {
    for (const app of apps) this.apps.set(app.clientId, app);
    this.policy = policy;
  }

  jwks() {
    return this.#signer.jwks();
  }

  grants(): Grant[] {
    return [...this.#grants.values()];
  }

  redirectAllowed(app: OAuthApp, redirectUri: string): boolean {
    if (app.redirectUris.length > 0) return app.redirectUris.includes(redirectUri);
    return /^https?:\/\//.test(redirectUri);
  }

  /** Validates the scope list; undefined when every scope is known. */
  invalidScope(scopes: readonly string[]): boolean {
    return scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s));
  }

  issueCode(
    input: {
      clientId: string;
      redirectUri: string;
      scope: string;
      realmId: string;
      challenge?: string;
      method?: string;
    },
    now: number,
  ): { code: string; realmId: string | undefined } {
    const scopes = parseScopes(input.scope);
    const realmId = grantsRealm(scopes) ? input.realmId : undefined;
    const code = newAuthorizationCode(now);
    this.#codes.set(code, {
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      realmId,
      scopes,
      expiresAt: now + this.policy.codeSeconds * 1000,
      used: false,
      challenge: input.challenge ? { value: input.challenge, method: input.method ?? 'plain' } : undefined,
    });
    return { code, realmId };
  }

  /** HTTP Basic (client_secret_basic) or form fields (client_secret_post). */
  authenticateClient(authorization: string | undefined, form: URLSearchParams): OAuthApp | undefined {
    let id = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const app = id === undefined ? undefined : this.apps.get(id);
    if (!app || secret === undefined || !sameText(app.clientSecret, secret)) return undefined;
    return app;
  }

  token(app: OAuthApp, form: URLSearchParams, includeHardExpiry: boolean, now: number): TokenResult {
    const grantType = form.get('grant_type');
    if (!grantType) return err(400, 'invalid_request');
    if (grantType === 'authorization_code') return this.#exchange(app, form, includeHardExpiry, now);
    if (grantType === 'refresh_token') return this.#refreshGrant(app, form, includeHardExpiry, now);
    return err(400, 'unsupported_grant_type');
  }

  /** Which realm a token request concerns, before it runs (for per-realm faults and counters). */
  realmOfTokenRequest(form: URLSearchParams): string | undefined {
    const code = form.get('code');
    if (code) return this.#codes.get(code)?.realmId;
    const refresh = form.get('refresh_token');
    return refresh ? this.#refresh.get(refresh)?.realmId : undefined;
  }

  #exchange(app: OAuthApp, form: URLSearchParams, includeHardExpiry: boolean, now: number): TokenResult {
    const codeValue = form.get('code');
    const redirectUri = form.get('redirect_uri');
    if (!codeValue || !redirectUri) return err(400, 'invalid_request');
    const code = this.#codes.get(codeValue);
    if (!code || code.used || code.expiresAt <= now || code.clientId !== app.clientId) {
      return err(400, 'invalid_grant', 'Token invalid');
    }
    code.used = true;
    if (code.redirectUri !== redirectUri) return err(400, 'invalid_grant', 'Token invalid');
    if (code.challenge) {
      const verifier = form.get('code_verifier') ?? '';
      const expected =
        code.challenge.method === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (verifier === '' || !sameText(expected, code.challenge.value)) {
        return err(400, 'invalid_grant', 'Invalid code verifier');
      }
    }
    const grant: Grant = {
      id: randomBytes(8).toString('hex'),
      clientId: app.clientId,
      realmId: code.realmId,
      scopes: code.scopes,
      sub: crypto.randomUUID(),
      createdMs: now,
      hardExpiresAt: now + this.policy.hardExpirySeconds * 1000,
      revoked: false,
      refresh: this.#newRefresh(now, now + this.policy.hardExpirySeconds * 1000),
      previous: [],
    };
    this.#grants.set(grant.id, grant);
    this.#refresh.set(grant.refresh.value, grant);
    return { ok: true, grant, body: this.#tokenBody(grant, includeHardExpiry, now, true) };
  }

  #newRefresh(now: number, hardExpiresAt: number) {
    return {
      value: newRefreshToken(now),
      issuedAt: now,
      expiresAt: Math.min(hardExpiresAt, now + this.policy.refreshTokenSeconds * 1000),
    };
  }

  #refreshGrant(app: OAuthApp, form: URLSearchParams, includeHardExpiry: boolean, now: number): TokenResult {
    const value = form.get('refresh_token');
    if (!value) return err(400, 'invalid_request');
    const invalid = err(400, 'invalid_grant', 'Incorrect or invalid refresh token');
    const grant = this.#refresh.get(value);
    if (!grant || grant.revoked || grant.clientId !== app.clientId || now >= grant.hardExpiresAt)
      return invalid;
    if (value !== grant.refresh.value) {
      const old = grant.previous.find((p) => p.value === value);
      if (!old || now >= old.until) return invalid;
    } else if (now >= grant.refresh.expiresAt) {
      return invalid;
    }
    if (now - grant.refresh.issuedAt >= this.policy.rotationSeconds * 1000) {
      const graceUntil = now + this.policy.rotatedGraceSeconds * 1000;
      grant.previous = grant.previous.filter((p) => p.until > now);
      if (this.policy.rotatedGraceSeconds > 0)
        grant.previous.push({ value: grant.refresh.value, until: graceUntil });
      else this.#refresh.delete(grant.refresh.value);
      grant.refresh = this.#newRefresh(now, grant.hardExpiresAt);
      this.#refresh.set(grant.refresh.value, grant);
    }
    return { ok: true, grant, body: this.#tokenBody(grant, includeHardExpiry, now, false) };
  }

  #tokenBody(
    grant: Grant,
    includeHardExpiry: boolean,
    now: number,
    withIdToken: boolean,
  ): Record<string, unknown> {
    const access = newAccessToken();
    this.#access.set(access, {
      grant,
      expiresAt: now + this.policy.accessTokenSeconds * 1000,
      handle: tokenHandle(now),
    });
    const body: Record<string, unknown> = {
      token_type: 'bearer',
      access_token: access,
      refresh_token: grant.refresh.value,
      expires_in: this.policy.accessTokenSeconds,
      x_refresh_token_expires_in: Math.max(0, Math.floor((grant.refresh.expiresAt - now) / 1000)),
    };
    if (includeHardExpiry) {
      body.x_refresh_token_hard_expires_in = Math.max(0, Math.floor((grant.hardExpiresAt - now) / 1000));
    }
    if (withIdToken && grant.scopes.includes('openid')) {
      const iat = Math.floor(now / 1000);
      body.id_token = this.#signer.sign({
        sub: grant.sub,
        aud: [grant.clientId],
        ...(grant.realmId ? { realmid: grant.realmId } : {}),
        auth_time: iat,
        iss: ISSUER,
        exp: iat + 3600,
        iat,
      });
    }
    return body;
  }

  /** Revoking either token ends the whole grant, as disconnecting the app does. */
  revoke(app: OAuthApp, token: string): boolean {
    const grant = this.#refresh.get(token) ?? this.#access.get(token)?.grant;
    if (!grant || grant.clientId !== app.clientId) return false;
    grant.revoked = true;
    return true;
  }

  /** The user disconnected the app inside QuickBooks: every grant for the realm dies. */
  revokeRealm(realmId: string): number {
    let n = 0;
    for (const grant of this.#grants.values()) {
      if (grant.realmId === realmId && !grant.revoked) {
        grant.revoked = true;
        n++;
      }
    }
    return n;
  }

  /** Bearer check for the Accounting API and UserInfo. */
  authenticate(authorization: string | undefined, now: number): AuthResult {
    if (!authorization) return { ok: false, reason: 'missing' };
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) return { ok: false, reason: 'malformed' };
    const value = match[1] as string;
    const token = this.#access.get(value);
    if (!token)
      return { ok: false, reason: value.length < 20 || value.length > 4096 ? 'malformed' : 'unknown' };
    if (token.grant.revoked) return { ok: false, reason: 'revoked', handle: token.handle };
    if (now >= token.expiresAt) return { ok: false, reason: 'expired', handle: token.handle };
    return { ok: true, token };
  }

  /** Ends every access token of a realm now (a control action: "the hour passed" for one realm). */
  expireAccessTokens(realmId: string | undefined, now: number): number {
    let n = 0;
    for (const token of this.#access.values()) {
      if ((realmId === undefined || token.grant.realmId === realmId) && token.expiresAt > now) {
        token.expiresAt = now;
        n++;
      }
    }
    return n;
  }
}

/**
 * The 50-character `AB0<epoch seconds><letters and digits>` value Intuit's 401 detail echoes
 * (`Token expired: AB01730024136mqEof…`, qbo-api-facts §6.1): the same shape, but not the token.
 */
function tokenHandle(now: number): string {
  const tail = randomBytes(48)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 37);
  return `AB0${Math.floor(now / 1000)}${tail}`;
}
