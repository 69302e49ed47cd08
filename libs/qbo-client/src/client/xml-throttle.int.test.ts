import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { isQboError } from '../errors.js';
import { simulatorClient } from '../testing/simulator-client.js';

let sim: Simulator;

before(async () => {
  // Intuit has answered throttles in XML even to JSON requests; the simulator does so under this policy.
  sim = await createSimulator({
    seed: { seed: 5, companies: 1, records: 10 },
    limits: { perMinutePerRealm: 1 },
    policies: { throttleFormat: 'xml' },
  });
});

after(() => sim.close());

it('reads the XML 429 the simulator serves as a rate_limit error with code 3001', async () => {
  const realmId = sim.control.companies()[0]?.realmId ?? '';
  const client = await simulatorClient(sim, realmId, { retry: { maxAttempts: 1 } });
  const ctx = { orgId: 'org-xml', correlationId: 'xml-throttle' };
  const connection = await connectRealm(sim, realmId);
  await client.read(realmId, 'Customer', '1', ctx);
  await assert.rejects(client.read(realmId, 'Customer', '1', ctx), (err) => {
    assert.ok(isQboError(err), String(err));
    assert.equal(err.status, 429);
    assert.equal(err.category, 'rate_limit');
    assert.equal(err.code, '3001');
    return true;
  });
  assert.equal(sim.control.counters()[realmId]?.read?.throttled['per-minute'], 1);
  // What the client was sent: XML, though it asked for JSON.
  const raw = await fetch(`${sim.url}/v3/company/${realmId}/customer/1`, {
    headers: { authorization: `Bearer ${connection.accessToken}`, accept: 'application/json' },
  });
  assert.equal(raw.status, 429);
  assert.match(await raw.text(), /^<\?xml[\s\S]*<Fault type="SERVICE"><Error code="3001">/);
});
