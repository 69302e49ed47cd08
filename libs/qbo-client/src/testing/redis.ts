import { Redis } from 'ioredis';

/** The Redis the tests use: REDIS_URL, or the one this machine runs. */
export const testRedisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const testRedis = (): Redis => new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
