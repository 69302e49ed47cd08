import type { Simulator } from '@qbo/qbo-simulator';
import { connect } from '@qbo/qbo-simulator/testing';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createMemoryBudgetStore } from '../budget/memory-store.js';
import { createQboClient, type QboClient, type QboClientOptions } from '../client/client.js';
import { captureLog } from './capture-log.js';
import { createSimulatorTokenProvider } from './simulator-tokens.js';

/** A client connected to one realm of an in-process simulator, on a memory budget, for tests. */
export async function simulatorClient(
  sim: Simulator,
  realmId: string,
  options: Partial<QboClientOptions> = {},
): Promise<QboClient> {
  return createQboClient({
    baseUrl: sim.url,
    tokens: createSimulatorTokenProvider({ url: sim.url, connections: [await connect(sim, realmId)] }),
    budget: createBudget({ store: createMemoryBudgetStore(budgetLimits()) }),
    log: captureLog().log,
    ...options,
  });
}
