import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { createBudget } from './budget/budget.js';
import { budgetLimits } from './budget/limits.js';
import { createMemoryBudgetStore } from './budget/memory-store.js';
import { createQboClient } from './client/client.js';
import { createPageSizer } from './page-size.js';
import { queryPages } from './pages.js';
import { captureLog } from './testing/capture-log.js';
import { memorySink } from './testing/memory-sink.js';
import { createSimulatorTokenProvider } from './testing/simulator-tokens.js';

let sim: Simulator;

before(async () => {
  sim = await createSimulator({
    seed: { seed: 5, companies: 1, counts: { Customer: 230 } },
    requestTimeoutMs: 300,
  });
});

after(() => sim.close());

describe('adaptive paging against the simulator', () => {
  it('shrinks the page after a 413, a 503 and a timeout, grows it back, and reads every record once', async () => {
    const realmId = sim.control.companies()[0]?.realmId ?? '';
    const sink = memorySink();
    const client = createQboClient({
      baseUrl: sim.url,
      tokens: createSimulatorTokenProvider({ url: sim.url, connections: [await connectRealm(sim, realmId)] }),
      budget: createBudget({ store: createMemoryBudgetStore(budgetLimits()) }),
      apiLog: sink,
      log: captureLog().log,
    });
    for (const kind of ['413', '503', 'timeout'] as const) {
      sim.control.addFault({ kind, realmId, endpoint: 'query', times: 1 });
    }
    const sizer = createPageSizer({ initial: 100 });
    const ids: string[] = [];
    for await (const page of queryPages(
      client,
      realmId,
      {
        entity: 'Customer',
        where: [{ field: 'Active', op: 'IN', value: [true, false] }],
        orderBy: { field: 'Id' },
      },
      { orgId: 'org-1' },
      { sizer, retry: { baseDelayMs: 10 } },
    )) {
      ids.push(...page.rows.map((r) => r.Id ?? ''));
    }

    assert.equal(ids.length, 230);
    assert.equal(new Set(ids).size, 230);
    const sizes = sink.rows.map((r) => Number(/MAXRESULTS (\d+)/.exec(r.query ?? '')?.[1]));
    assert.deepEqual(
      sizes.slice(0, 4),
      [100, 25, 13, 7],
      'quartered after the 413, halved after the 503 and the timeout',
    );
    assert.ok((sizes.at(-1) ?? 0) > 7, `grew back on fast pages: ${sizes}`);
    assert.deepEqual(
      sink.rows.slice(0, 3).map((r) => r.status),
      [413, 503, 504],
    );
  });
});
