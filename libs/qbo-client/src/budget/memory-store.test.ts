import { createMemoryBudgetStore } from './memory-store.js';
import { describeBudgetStoreContract } from './store-contract.js';

let clock = 1_800_000_000_000;

describeBudgetStoreContract('in-memory', {
  store: (limits) => createMemoryBudgetStore(limits, () => clock),
  elapse: async (ms) => {
    clock += ms;
  },
});
