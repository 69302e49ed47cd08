import type { HttpBindings } from '@hono/node-server';
import { AppError, type Logger } from '@qbo/service-kit';
import type { Context } from 'hono';
import type { Audit } from '../audit.js';
import { fingerprint } from '../domain/state.js';
import { clientAddress, clientKey, type TrustProxy } from './client-address.js';
import type { RateLimits } from './rate-limit.js';

type Bucket = Parameters<RateLimits['consume']>[0];

/** The checks both connect routes start with: rate limits (refusals audited) and the client's fingerprint. */
export function createConnectGuards({
  limits,
  audit,
  log,
  fingerprintKey,
  trustProxy,
}: {
  limits: RateLimits;
  audit: Audit;
  log: Logger;
  fingerprintKey: Buffer;
  trustProxy: TrustProxy;
}) {
  /** The real client behind our proxies; 'unknown' off a Node server (in-process tests). */
  const address = (c: Context): string => {
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
    return incoming ? clientAddress(incoming, trustProxy) : 'unknown';
  };
  const fp = (c: Context) => fingerprint(fingerprintKey, address(c));
  return {
    fp,
    /** What a client is rate-limited under: its address, or for IPv6 its /64. */
    ip: (c: Context) => clientKey(address(c)),
    /**
     * Spends a point of the bucket; throws 429 (audited) when it is empty, and 503 when the store cannot
     * answer: the connect flow fails closed.
     */
    async limit(
      c: Context,
      stage: 'initiate' | 'callback',
      bucket: Bucket,
      key: string,
      orgId?: string,
    ): Promise<void> {
      const outcome = await limits.consume(bucket, key);
      if (outcome.ok) return;
      if ('unavailable' in outcome) {
        log.error('rate-limit store unavailable; refusing connect requests');
        throw new AppError('unavailable', 'Try again later', { status: 503, retryAfterSeconds: 5 });
      }
      await audit(orgId, { stage, reason: 'rate_limited', clientFingerprint: fp(c) });
      throw new AppError('rate_limited', 'Too many connect attempts; try again later', {
        status: 429,
        retryAfterSeconds: outcome.retryAfterSeconds,
      });
    },
  };
}

export type ConnectGuards = ReturnType<typeof createConnectGuards>;
