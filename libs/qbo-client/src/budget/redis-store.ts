import type { Redis } from 'ioredis';
import type { BudgetLimits } from './limits.js';
import type { Admission, BudgetReason, BudgetStore, CallKind } from './store.js';

/**
 * One atomic step per attempt, on Redis's own clock so replicas with skewed clocks still agree:
 * the pause key first, then a sliding-window log per limit (a sorted set of admission times, so any rolling
 * window holds at most `limit` entries, which a fixed-window counter cannot promise across a window edge),
 * then the in-flight set (slot id → lease expiry, so a crashed holder's slot frees itself). Only when every
 * limit has room is the call written to all of them.
 *
 * KEYS: minute log, second log, in-flight set, pause flag, batch log.
 * ARGV: slot id, per-minute, minute span, per-second, second span, concurrent, lease ms, is batch,
 *       batch per-minute.
 * Returns {0, 0} when admitted, else {reason, ms until it may pass}.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local paused = redis.call('PTTL', KEYS[4])
if paused > 0 then return {1, paused} end
local function wait(key, limit, span)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local n = redis.call('ZCARD', key)
  if n < limit then return 0 end
  local edge = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(edge[2]) + span - now))
end
local w = wait(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
if w > 0 then return {2, w} end
w = wait(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5]))
if w > 0 then return {3, w} end
local batch = ARGV[8] == '1'
if batch then
  w = wait(KEYS[5], tonumber(ARGV[9]), tonumber(ARGV[3]))
  if w > 0 then return {5, w} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then
  local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {4, math.max(1, math.ceil(tonumber(first[2]) - now))}
end
local lease = tonumber(ARGV[7])
redis.call('ZADD', KEYS[3], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[3], lease)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
if batch then
  redis.call('ZADD', KEYS[5], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[5], ARGV[3])
end
return {0, 0}
`;

const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
`;

const REASONS: Record<number, BudgetReason> = {
  1: 'paused',
  2: 'per-minute',
  3: 'per-second',
  4: 'concurrent',
  5: 'batch-per-minute',
};

type BudgetCommands = {
  qboBudgetAcquire(...args: (string | number)[]): Promise<[number, number]>;
  qboBudgetPause(key: string, ms: number): Promise<number>;
};

export interface RedisBudgetStoreOptions {
  redis: Redis;
  /** Prefix of every key: one per deployment, or per test run so parallel suites never collide. */
  namespace: string;
  limits: BudgetLimits;
}

/** The fleet-wide budget store: every replica's calls to one realm count against the same Redis keys. */
export function createRedisBudgetStore({ redis, namespace, limits }: RedisBudgetStoreOptions): BudgetStore {
  if (!('qboBudgetAcquire' in redis)) {
    redis.defineCommand('qboBudgetAcquire', { numberOfKeys: 5, lua: ACQUIRE });
    redis.defineCommand('qboBudgetPause', { numberOfKeys: 1, lua: PAUSE });
  }
  const commands = redis as unknown as BudgetCommands;
  // The braces are a Redis Cluster hash tag: one realm's keys share a slot, as a script's keys must.
  const key = (realmId: string, name: string) => `${namespace}:{${realmId}}:${name}`;
  const minuteSpan = limits.minuteMs + limits.marginMs;
  const secondSpan = limits.secondMs + limits.marginMs;

  return {
    async tryAcquire(realmId: string, kind: CallKind, slotId: string): Promise<Admission> {
      const [code, ms] = await commands.qboBudgetAcquire(
        key(realmId, 'minute'),
        key(realmId, 'second'),
        key(realmId, 'inflight'),
        key(realmId, 'pause'),
        key(realmId, 'batch'),
        slotId,
        limits.perMinute,
        minuteSpan,
        limits.perSecond,
        secondSpan,
        limits.concurrent,
        limits.leaseMs,
        kind === 'batch' ? '1' : '0',
        limits.batchPerMinute,
      );
      if (code === 0) return { ok: true };
      return { ok: false, reason: REASONS[code] ?? 'paused', retryInMs: ms };
    },
    async release(realmId, slotId) {
      await redis.zrem(key(realmId, 'inflight'), slotId);
    },
    async pause(realmId, ms) {
      await commands.qboBudgetPause(key(realmId, 'pause'), Math.max(1, Math.ceil(ms)));
    },
  };
}
