import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName } from '@qbo/testkit';
import { testRedis } from '../testing/redis.js';
import { createRedisBudgetStore } from './redis-store.js';
import { describeBudgetStoreContract } from './store-contract.js';

const redis = testRedis();
after(() => redis.quit());

describeBudgetStoreContract('Redis', {
  store: (limits) => createRedisBudgetStore({ redis, namespace: uniqueName('qbo-budget-contract'), limits }),
  elapse: (ms) => sleep(ms),
});
