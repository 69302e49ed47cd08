import { eventBusEnvShape } from '@qbo/event-bus';
import { env, Secret, serviceEnvShape } from '@qbo/service-kit';
import { orgJwtEnvShape, requireOrgKey } from '@qbo/service-kit/org-auth';
import { z } from 'zod';
import { trustedProxies } from './http/client-address.js';

/** An exact origin (`scheme://host[:port]`), nothing more: allowlists compare origins, never prefixes. */
const origin = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === v && !v.includes('*');
  } catch {
    return false;
  }
}, 'each entry must be an exact origin such as https://app.example.com (no path, no wildcard)');

const originList = () => env.list().pipe(z.array(origin));

const secretOf = (min: number) =>
  z
    .string()
    .min(min, `must be at least ${min} characters`)
    .transform((v) => new Secret(v));

export const configSchema = z
  .object({
    ...serviceEnvShape,
    ...eventBusEnvShape,
    PORT: env.port(8080),

    QBO_CLIENT_ID: z.string().min(1),
    QBO_CLIENT_SECRET: secretOf(8),
    QBO_ENVIRONMENT: z.enum(['sandbox', 'production']).default('sandbox'),
    /** Registered at Intuit exactly; the callback route of this service as the browser reaches it. */
    QBO_REDIRECT_URI: z.url({ protocol: /^https?$/ }),
    /** Must include `openid`: the ID token's `realmid` is what the callback's `realmId` is checked against. */
    QBO_SCOPES: env
      .list()
      .pipe(z.array(z.string().min(1)).min(1))
      .default(['com.intuit.quickbooks.accounting', 'openid']),
    /** Intuit's OAuth endpoints at another host (the simulator serves them at Intuit's own paths). */
    QBO_OAUTH_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * PKCE S256 (RFC 9700 §2.1.1 recommends it for confidential clients too). Intuit does not advertise it; a
     * server that does not implement it must ignore the unknown parameters (RFC 6749 §3.1, §3.2), so it is on.
     */
    QBO_PKCE: env.boolean(true),

    TOKEN_SERVICE_URL: z.url({ protocol: /^https?$/ }),
    TOKEN_SERVICE_CREDENTIAL: env.secret(),
    TOKEN_SERVICE_TIMEOUT_MS: env.positiveInt(10_000),

    /** Signs the browser-binding cookie and seals the PKCE verifier at rest. */
    STATE_COOKIE_SECRET: secretOf(32),
    /**
     * Only for plain-http local development (the redirect URI's host must be localhost or 127.0.0.1): browsers
     * drop Secure cookies over plain http, and refuse the `__Host-` cookie name without Secure.
     */
    STATE_COOKIE_SECURE: env.boolean(true),
    STATE_TTL_SECONDS: env.positiveInt(600),
    RETURN_TO_ALLOWED_ORIGINS: originList().pipe(z.array(z.string()).min(1, 'must name at least one origin')),
    CORS_ALLOWED_ORIGINS: originList().default([]),
    /** Prefix of the reconnect link in the connections API (this service as the platform's frontend reaches it). */
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),

    ...orgJwtEnvShape,

    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
    RATE_LIMIT_KEY_PREFIX: z.string().min(1).default('auth-rl'),
    RATE_LIMIT_WINDOW_SECONDS: env.positiveInt(60),
    RATE_LIMIT_INITIATE_PER_IP: env.positiveInt(30),
    RATE_LIMIT_INITIATE_PER_ORG: env.positiveInt(10),
    RATE_LIMIT_CALLBACK_PER_IP: env.positiveInt(30),
    /**
     * The proxies in front (addresses or CIDR ranges): X-Forwarded-For is honoured only from them, read right to
     * left up to the first address that is not one of them. Empty: the socket's address is the client.
     */
    TRUSTED_PROXY_CIDRS: env
      .list()
      .default([])
      .superRefine((cidrs, ctx) => {
        try {
          trustedProxies(cidrs);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'each entry must be an IP address or CIDR range' });
        }
      }),
    /** Replaced by TRUSTED_PROXY_CIDRS; refused, so a deployment that set it does not silently trust nobody. */
    TRUST_PROXY: z.string().optional(),
    /** Per stage, reason and org, the refusals a window writes one by one before the rest are summarised. */
    AUDIT_SAMPLE_PER_WINDOW: env.positiveInt(5),
    AUDIT_WINDOW_SECONDS: env.positiveInt(60),
  })
  .superRefine((c, ctx) => {
    requireOrgKey(c, ctx);
    if (!c.QBO_SCOPES.includes('openid')) {
      ctx.addIssue({
        code: 'custom',
        path: ['QBO_SCOPES'],
        message:
          "must include 'openid': without Intuit's ID token the callback's realmId cannot be checked, so an org could register a company it did not authorise",
      });
    }
    if (c.TRUST_PROXY !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['TRUST_PROXY'],
        message:
          'is replaced by TRUSTED_PROXY_CIDRS (the proxies whose X-Forwarded-For is honoured); remove it and list the proxies',
      });
    }
    if (!c.STATE_COOKIE_SECURE && !LOCAL_HOSTS.has(new URL(c.QBO_REDIRECT_URI).hostname)) {
      ctx.addIssue({
        code: 'custom',
        path: ['STATE_COOKIE_SECURE'],
        message:
          'may be false only when QBO_REDIRECT_URI is on localhost or 127.0.0.1 (plain-http development): elsewhere the browser-binding cookie must be Secure',
      });
    }
  });

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

export type Config = z.output<typeof configSchema>;
