import { eventBusEnvShape } from '@qbo/event-bus';
import { env, hasCode, Secret, serviceEnvShape } from '@qbo/service-kit';
import { parseTokenApiCallers, TokenApiCallersError } from '@qbo/token-api';
import { z } from 'zod';
import { type KeyRing, parseKeyRing } from './domain/key-ring.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Where a test may stop the process to prove a crash loses nothing; accepted only with NODE_ENV=test. */
export const crashPoints = ['after_intuit_answer', 'after_commit'] as const;
export type CrashPoint = (typeof crashPoints)[number];

export const configSchema = z
  .object({
    ...serviceEnvShape,
    ...eventBusEnvShape,
    PORT: env.port(8081),
    NODE_ENV: z.string().optional(),
    /**
     * Each caller's own credentials, `auth-service=<secret>;sync-service=<secret>;operator=<secret>` (several
     * comma-separated secrets for a caller during its rotation). What each caller may do is the contract's
     * (`tokenApiOperations` in @qbo/token-api), not this variable's.
     */
    TOKEN_API_CALLERS: z.string().transform((v, ctx) => {
      try {
        parseTokenApiCallers(v);
      } catch (err) {
        if (!(err instanceof TokenApiCallersError)) throw err;
        for (const message of err.problems) ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return new Secret(v);
    }),
    /** The one flat list of credentials this replaces; refused so an old deployment fails loudly. */
    TOKEN_SERVICE_CREDENTIALS: z.string().optional(),
    /** A connection is force-refreshed (compare-and-refresh) at most once per this window. */
    TOKEN_FORCED_REFRESH_INTERVAL_MS: env.positiveInt(30_000),
    /** While Intuit rejects the app credentials, one refresh probes them this often; success resumes. */
    TOKEN_APP_PAUSE_PROBE_INTERVAL_MS: env.positiveInt(5 * MINUTE_MS),
    /** A shred whose revoke at Intuit failed retries it after this, doubling up to an hour… */
    TOKEN_SHRED_REVOKE_RETRY_MS: env.positiveInt(MINUTE_MS),
    /** …this many times in all, then shreds anyway and reports that the grant may still be live at Intuit. */
    TOKEN_SHRED_REVOKE_MAX_ATTEMPTS: env.positiveInt(12),
    /** Key-encryption keys, `kid:base64(32 bytes),…`; the active one seals new data keys. */
    TOKEN_KEYS: z
      .string()
      .transform((v) => new Secret(v))
      .optional(),
    TOKEN_ACTIVE_KEY_ID: z.string().min(1).optional(),
    /**
     * Runs without TOKEN_KEYS on a key generated at start-up (throwaway local runs only): must be asked for
     * explicitly, because every credential stored then is unreadable after a restart. Refused in production.
     */
    TOKEN_ALLOW_EPHEMERAL_KEY: env.boolean(false),
    QBO_CLIENT_ID: z.string().min(1),
    QBO_CLIENT_SECRET: z
      .string()
      .min(1)
      .transform((v) => new Secret(v)),
    QBO_ENVIRONMENT: z.enum(['sandbox', 'production']).default('sandbox'),
    /** Base URL of Intuit's OAuth host; the token and revoke paths are appended (tests: the simulator). */
    QBO_OAUTH_BASE_URL: z.url().optional(),
    /** Deadline of one call to Intuit's token endpoint; well under the row lock's timeout. */
    QBO_TOKEN_TIMEOUT_MS: env.positiveInt(10_000),
    /** An access token expiring within this is refreshed before it is handed out. */
    TOKEN_REFRESH_MARGIN_MS: env.positiveInt(5 * MINUTE_MS),
    /** A connection asked for a token within this window is refreshed ahead of expiry by the scheduler. */
    TOKEN_ACTIVE_WINDOW_MS: env.positiveInt(2 * 60 * MINUTE_MS),
    /** Idle connections are refreshed this often to keep the refresh token alive (Intuit: 100 days idle). */
    TOKEN_KEEPALIVE_INTERVAL_MS: env.positiveInt(7 * DAY_MS),
    SCHEDULER_INTERVAL_MS: env.positiveInt(5_000),
    SCHEDULER_BATCH_SIZE: env.positiveInt(100),
    SCHEDULER_CONCURRENCY: env.positiveInt(4),
    REFRESH_BACKOFF_INITIAL_MS: env.positiveInt(30_000),
    REFRESH_BACKOFF_MAX_MS: env.positiveInt(15 * MINUTE_MS),
    /** ReconnectSoon is published once this long before the refresh token's hard expiry. */
    RECONNECT_SOON_LEAD_MS: env.positiveInt(30 * DAY_MS),
    TOKEN_TEST_CRASH_AT: z.enum(crashPoints).optional(),
  })
  .superRefine((c, ctx) => {
    const production = c.NODE_ENV === 'production';
    if (c.TOKEN_SERVICE_CREDENTIALS !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOKEN_SERVICE_CREDENTIALS'],
        message: 'is replaced by TOKEN_API_CALLERS (one credential per caller)',
      });
    }
    // One rule, independent of how NODE_ENV is spelled elsewhere: the crash hook only runs under a test runner.
    if (c.TOKEN_TEST_CRASH_AT && c.NODE_ENV !== 'test') {
      ctx.addIssue({
        code: 'custom',
        path: ['TOKEN_TEST_CRASH_AT'],
        message: 'is accepted only with NODE_ENV=test',
      });
    }
    if (production && c.TOKEN_ALLOW_EPHEMERAL_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOKEN_ALLOW_EPHEMERAL_KEY'],
        message: 'is refused in production',
      });
    }
    if (!c.TOKEN_KEYS) {
      if (!c.TOKEN_ALLOW_EPHEMERAL_KEY)
        ctx.addIssue({
          code: 'custom',
          path: ['TOKEN_KEYS'],
          message: 'is required (set TOKEN_ALLOW_EPHEMERAL_KEY=true for a throwaway local run)',
        });
      return;
    }
    if (!c.TOKEN_ACTIVE_KEY_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOKEN_ACTIVE_KEY_ID'],
        message: 'is required with TOKEN_KEYS',
      });
      return;
    }
    try {
      parseKeyRing(c.TOKEN_KEYS.reveal(), c.TOKEN_ACTIVE_KEY_ID);
    } catch (err) {
      if (!hasCode(err, 'invalid_key_ring')) throw err;
      ctx.addIssue({ code: 'custom', path: ['TOKEN_KEYS'], message: err.message });
    }
  });

export type Config = z.output<typeof configSchema>;

/** Each caller's accepted credentials. */
export const callersOf = (config: Config) => parseTokenApiCallers(config.TOKEN_API_CALLERS.reveal());

/** The key ring from the configuration, or undefined when an ephemeral key was explicitly allowed. */
export function keyRingOf(config: Config): KeyRing | undefined {
  if (!config.TOKEN_KEYS || !config.TOKEN_ACTIVE_KEY_ID) return undefined;
  return parseKeyRing(config.TOKEN_KEYS.reveal(), config.TOKEN_ACTIVE_KEY_ID);
}

/** Intuit's OAuth endpoints: its own hosts unless a base URL points them elsewhere. */
export function oauthEndpoints(config: Config): { token: string; revoke: string } {
  const base = config.QBO_OAUTH_BASE_URL?.replace(/\/+$/, '');
  return base
    ? { token: `${base}/oauth2/v1/tokens/bearer`, revoke: `${base}/v2/oauth2/tokens/revoke` }
    : {
        token: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
        revoke: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
      };
}
