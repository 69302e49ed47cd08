import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@qbo/service-kit';
import {
  type RevokeResponse,
  type StoreCredentialsRequest,
  type TokenServiceClient,
  TokenServiceError,
} from '@qbo/token-api';
import { type ExchangedGrant, ExchangeError, type IntuitOAuth } from '../intuit/oauth.js';

/** A logger whose lines a test can read. */
export function memoryLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    service: 'test',
    level: 'debug',
    destination: new Writable({
      write: (chunk, _e, done) => {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { log, lines };
}

type Failure = TokenServiceError['code'];

/**
 * The token-service's credential store and revoke in memory: what it was handed, what it revoked, and
 * scripted failures (each store call takes the next one).
 */
export function fakeTokenService() {
  const stored = new Map<string, StoreCredentialsRequest>();
  const storeCalls: string[] = [];
  const revokes: string[] = [];
  const storeFailures: Failure[] = [];
  const state = {
    revokeFails: undefined as Failure | undefined,
    retryAfterMs: undefined as number | undefined,
  };
  const fail = (code: Failure) =>
    new TokenServiceError(code, `token-service: ${code}`, {
      ...(state.retryAfterMs === undefined ? {} : { retryAfterMs: state.retryAfterMs }),
    });
  const tokens: Pick<TokenServiceClient, 'storeCredentials' | 'revoke'> = {
    async storeCredentials(connectionId, body) {
      storeCalls.push(connectionId);
      const failure = storeFailures.shift();
      if (failure) throw fail(failure);
      stored.set(connectionId, body);
      return { connectionId, credentialVersion: 1, changed: true };
    },
    async revoke(connectionId): Promise<RevokeResponse> {
      revokes.push(connectionId);
      if (state.revokeFails) throw fail(state.revokeFails);
      if (!stored.has(connectionId)) throw fail('connection_not_found');
      stored.delete(connectionId);
      return { connectionId, revokedAtIntuit: true };
    },
  };
  return { tokens, stored, storeCalls, revokes, storeFailures, state };
}

/** Intuit's token endpoint for the callback: one grant per exchange, or the scripted refusal. */
export function fakeIntuit(grant: ExchangedGrant) {
  const revoked: string[] = [];
  const state = { exchangeFails: undefined as string | undefined };
  const intuit: Pick<IntuitOAuth, 'exchange' | 'revoke'> = {
    async exchange() {
      if (state.exchangeFails) throw new ExchangeError(state.exchangeFails);
      return grant;
    },
    async revoke(refreshToken) {
      revoked.push(refreshToken);
    },
  };
  return { intuit, revoked, state };
}
