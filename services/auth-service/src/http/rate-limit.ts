import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type LimitOutcome =
  | { ok: true }
  | { ok: false; retryAfterSeconds: number }
  | { ok: false; unavailable: true };

export interface RateLimits {
  /** Spends one point on each key; refused when any bucket is empty. */
  consume(bucket: 'initiate_ip' | 'initiate_org' | 'callback_ip', key: string): Promise<LimitOutcome>;
}

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  windowSeconds: number;
  initiatePerIp: number;
  initiatePerOrg: number;
  callbackPerIp: number;
}

/**
 * Fixed-window counters in Redis, shared by every replica, so a restart or another replica does not reset
 * them. When Redis cannot answer the request is refused (503): the connect flow fails closed.
 */
export function createRateLimits(o: RateLimitOptions): RateLimits {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: o.redis,
      keyPrefix: `${o.prefix}:${name}`,
      points,
      duration: o.windowSeconds,
    });
  const limiters = {
    initiate_ip: limiter('initiate-ip', o.initiatePerIp),
    initiate_org: limiter('initiate-org', o.initiatePerOrg),
    callback_ip: limiter('callback-ip', o.callbackPerIp),
  };
  return {
    async consume(bucket, key) {
      try {
        await limiters[bucket].consume(key);
        return { ok: true };
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
        }
        return { ok: false, unavailable: true };
      }
    },
  };
}
