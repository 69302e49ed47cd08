import { errorCode, hasCode, type Logger } from '@qbo/service-kit';
import type { StoreCredentialsRequest, TokenServiceClient, TokenServiceError } from '@qbo/token-api';
import type { ConnectionStatus } from '../domain/status.js';
import { exchangeErrorCode, type IntuitOAuth } from '../intuit/oauth.js';
import type { GrantRecord } from '../store/connections.js';

/** The grant recorded as a connection, with its event, in one transaction; the status it had before, if any. */
export type RecordGrant = (grant: GrantRecord) => Promise<ConnectionStatus | undefined>;

export interface CompleteConnectionDeps {
  intuit: Pick<IntuitOAuth, 'exchange' | 'revoke'>;
  tokens: Pick<TokenServiceClient, 'storeCredentials' | 'revoke'>;
  /** The org holding the realm now, if any (any status but disconnected holds it). */
  ownerOfRealm: (realmId: string) => Promise<string | undefined>;
  /** The org's live connection to the realm, if any: a reconnect renews it. */
  liveConnection: (orgId: string, realmId: string) => Promise<{ id: string } | undefined>;
  record: RecordGrant;
  log: Logger;
  settings: { environment: 'sandbox' | 'production'; scopes: readonly string[] };
  now?: () => Date;
  newId: () => string;
  sleep?: (ms: number) => Promise<void>;
}

export interface Callback {
  orgId: string;
  userId: string | null;
  realmId: string;
  code: string;
  state: string;
  /** The PKCE verifier, opened only when the exchange happens. */
  codeVerifier: () => string | undefined;
}

export type Completion =
  | { ok: true; connectionId: string; reconnect: boolean }
  | {
      ok: false;
      refusal:
        | 'realm_mismatch'
        | 'exchange_failed'
        | 'token_service_unavailable'
        | 'realm_owned_by_other_org'
        | 'connection_disconnected_meanwhile';
    };

const STORE_ATTEMPTS = 3;

/**
 * The callback's work once the state checked out: exchange the code at Intuit, hand the grant to the
 * token-service, record the connection (and its event), and revoke a grant obtained but not kept, so nothing
 * is left refreshing a connection that does not exist.
 */
export function createCompleteConnection(d: CompleteConnectionDeps) {
  const { log } = d;
  const now = d.now ?? (() => new Date());
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  /**
   * Revokes a grant this callback obtained but will not keep. Through the token-service first when it may
   * hold the grant under a connection that is not (or no longer) live (it revokes at Intuit and stops
   * scheduling refreshes); at Intuit directly with the refresh token otherwise, or when the token-service
   * does not hold it or could not revoke. Best effort: a failure is logged with its code only.
   */
  async function discardGrant(orgId: string, refreshToken: string, handedOffAs: string | undefined) {
    if (handedOffAs) {
      try {
        if ((await d.tokens.revoke(handedOffAs)).revokedAtIntuit) return;
      } catch (err) {
        const code = errorCode(err) ?? 'unexpected';
        if (code !== 'connection_not_found')
          log.warn(
            { orgId, connectionId: handedOffAs, errorCode: code },
            'revoking a discarded grant through the token-service failed; revoking at Intuit',
          );
      }
    }
    try {
      await d.intuit.revoke(refreshToken);
    } catch (err) {
      log.warn(
        { orgId, errorCode: exchangeErrorCode(err, 'unexpected') },
        'revoking a discarded grant at Intuit failed',
      );
    }
  }

  /** The store is idempotent by connection id, so a retry after a lost answer is safe. */
  async function handOff(connectionId: string, body: StoreCredentialsRequest): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await d.tokens.storeCredentials(connectionId, body);
        return;
      } catch (err) {
        if (!isRetryable(err) || attempt >= STORE_ATTEMPTS) throw err;
        await sleep(Math.min(err.retryAfterMs ?? 200 * 2 ** attempt, 2_000));
      }
    }
  }

  return async function completeConnection(cb: Callback): Promise<Completion> {
    const { orgId, realmId } = cb;
    const { environment, scopes } = d.settings;
    let grant: Awaited<ReturnType<IntuitOAuth['exchange']>>;
    try {
      const codeVerifier = cb.codeVerifier();
      grant = await d.intuit.exchange({
        code: cb.code,
        state: cb.state,
        realmId,
        ...(codeVerifier ? { codeVerifier } : {}),
      });
    } catch (err) {
      const code = exchangeErrorCode(err, 'exchange_failed');
      if (code === 'realm_mismatch') return { ok: false, refusal: 'realm_mismatch' };
      log.warn({ orgId, errorCode: code }, 'code exchange failed');
      return { ok: false, refusal: 'exchange_failed' };
    }

    // Ownership is looked at only now, once Intuit's ID token proved the caller holds a grant for this realm:
    // before the exchange, a refusal would tell anyone who edits `realmId` which realms are held. The grant is
    // revoked without waiting, so the answer takes as long as a failed exchange does.
    const owner = await d.ownerOfRealm(realmId);
    if (owner !== undefined && owner !== orgId) {
      void discardGrant(orgId, grant.refreshToken, undefined);
      return { ok: false, refusal: 'realm_owned_by_other_org' };
    }

    const existing = await d.liveConnection(orgId, realmId);
    const connectionId = existing?.id ?? d.newId();
    try {
      await handOff(connectionId, {
        orgId,
        realmId,
        environment,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        accessTokenExpiresAt: grant.accessTokenExpiresAt,
        refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
        scopes: [...scopes],
      });
    } catch (err) {
      log.error(
        { orgId, connectionId, errorCode: errorCode(err) ?? 'unexpected' },
        'credentials not handed to the token-service',
      );
      // A lost answer may hide a stored grant, so the token-service is asked to revoke a new connection's. A
      // live connection being renewed is left alone there: revoking it would end the connection under a row
      // that stays live, and whichever grant it holds dies with the revoke at Intuit (the row then shows the
      // deactivation and the user reconnects).
      await discardGrant(orgId, grant.refreshToken, existing ? undefined : connectionId);
      return { ok: false, refusal: 'token_service_unavailable' };
    }

    try {
      await d.record({
        id: connectionId,
        orgId,
        realmId,
        environment,
        scopes,
        connectedBy: cb.userId,
        at: now(),
      });
    } catch (err) {
      const meanwhile = hasCode(err, 'connection_disconnected_meanwhile');
      const liveRowKept = existing !== undefined && !meanwhile;
      await discardGrant(orgId, grant.refreshToken, liveRowKept ? undefined : connectionId);
      if (isUniqueViolation(err)) return { ok: false, refusal: 'realm_owned_by_other_org' };
      if (meanwhile) return { ok: false, refusal: 'connection_disconnected_meanwhile' };
      throw err;
    }
    log.info({ orgId, connectionId, reconnect: existing !== undefined }, 'connection recorded');
    return { ok: true, connectionId, reconnect: existing !== undefined };
  };
}

export type CompleteConnection = ReturnType<typeof createCompleteConnection>;

/** The token-service client's verdict that a call may be repeated (and after how long). */
const isRetryable = (err: unknown): err is Pick<TokenServiceError, 'retryable' | 'retryAfterMs'> =>
  err instanceof Error && (err as Partial<TokenServiceError>).retryable === true;

const isUniqueViolation = (err: unknown): boolean =>
  (err instanceof Error && err.name === 'UniqueConstraintViolationException') || hasCode(err, '23505');
