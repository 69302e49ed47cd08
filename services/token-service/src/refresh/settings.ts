import { createHash } from 'node:crypto';
import { type Config, oauthEndpoints } from '../config.js';
import { createTokenEndpoint } from '../intuit/token-endpoint.js';
import type { TokenManagerOptions } from './token-manager.js';

/** What the token manager takes from the configuration: Intuit's token endpoint and the refresh timings. */
export function tokenManagerSettings(
  config: Config,
): Pick<
  TokenManagerOptions,
  | 'intuit'
  | 'clientFingerprint'
  | 'marginMs'
  | 'activeWindowMs'
  | 'keepAliveMs'
  | 'reconnectLeadMs'
  | 'backoff'
  | 'lockTimeoutMs'
  | 'forcedRefreshIntervalMs'
  | 'probeIntervalMs'
  | 'shredRevoke'
> {
  const endpoints = oauthEndpoints(config);
  const clientSecret = config.QBO_CLIENT_SECRET;
  return {
    intuit: createTokenEndpoint({
      tokenUrl: endpoints.token,
      revokeUrl: endpoints.revoke,
      clientId: config.QBO_CLIENT_ID,
      clientSecret: () => clientSecret.reveal(),
      timeoutMs: config.QBO_TOKEN_TIMEOUT_MS,
    }),
    clientFingerprint: createHash('sha256')
      .update(`qbo-app:${config.QBO_CLIENT_ID}:${clientSecret.reveal()}`)
      .digest('hex')
      .slice(0, 24),
    marginMs: config.TOKEN_REFRESH_MARGIN_MS,
    activeWindowMs: config.TOKEN_ACTIVE_WINDOW_MS,
    keepAliveMs: config.TOKEN_KEEPALIVE_INTERVAL_MS,
    reconnectLeadMs: config.RECONNECT_SOON_LEAD_MS,
    backoff: {
      initialMs: config.REFRESH_BACKOFF_INITIAL_MS,
      maxMs: config.REFRESH_BACKOFF_MAX_MS,
      jitter: 0.5,
    },
    // Two calls when Intuit refuses the client (the second confirms it), plus the wait for the lock.
    lockTimeoutMs: config.QBO_TOKEN_TIMEOUT_MS * 3 + 5_000,
    forcedRefreshIntervalMs: config.TOKEN_FORCED_REFRESH_INTERVAL_MS,
    probeIntervalMs: config.TOKEN_APP_PAUSE_PROBE_INTERVAL_MS,
    shredRevoke: {
      initialMs: config.TOKEN_SHRED_REVOKE_RETRY_MS,
      maxMs: 60 * 60_000,
      maxAttempts: config.TOKEN_SHRED_REVOKE_MAX_ATTEMPTS,
    },
  };
}
