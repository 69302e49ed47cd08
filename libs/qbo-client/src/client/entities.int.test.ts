import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import {
  ENTITY_SAMPLES,
  type EntitySample,
  type SampleRefs,
  SEEDED_ACCOUNTS,
} from '@qbo/qbo-simulator/testing';
import { isQboError } from '../errors.js';
import { simulatorClient } from '../testing/simulator-client.js';
import type { QboClient } from './client.js';
import type { QboObject } from './context.js';

let sim: Simulator;
let realmId: string;
let client: QboClient;
let refs: SampleRefs;
let since: Date;
const ctx = { orgId: 'org-entities', correlationId: 'entities-run' };

before(async () => {
  // A seeded company with its chart of accounts and nothing else; the test makes what the samples refer to.
  sim = await createSimulator({ seed: { seed: 15, companies: 1, records: 0 } });
  realmId = sim.control.companies()[0]?.realmId ?? '';
  client = await simulatorClient(sim, realmId);
  since = new Date(sim.control.clock.now() - 1000);
  const id = async (entity: string, body: QboObject) =>
    (await client.create(realmId, entity, body, ctx)).Id ?? '';
  refs = {
    customer: await id('Customer', { DisplayName: 'Sample Customer' }),
    vendor: await id('Vendor', { DisplayName: 'Sample Vendor' }),
    item: await id('Item', { Name: 'Sample Service', IncomeAccountRef: { value: SEEDED_ACCOUNTS.services } }),
  };
});

after(() => sim.close());

/** Ends the record's life the way its entity allows, and checks what a read then answers. */
async function end(sample: EntitySample, record: QboObject): Promise<void> {
  const { entity } = sample;
  const current = { Id: record.Id ?? '', SyncToken: record.SyncToken ?? '' };
  if (sample.end === 'deactivate') {
    const inactive = await client.update(realmId, entity, { ...current, Active: false }, ctx);
    assert.equal(inactive.Active, false);
    const visible = await client.query(
      realmId,
      { entity, where: [{ field: 'Id', op: '=', value: current.Id }] },
      ctx,
    );
    assert.equal(visible.rows.length, 0, 'a plain query hides an inactive name-list record');
  } else if (sample.end === 'delete') {
    const deleted = await client.delete(realmId, entity, current, ctx);
    assert.equal(deleted.status, 'Deleted');
    await assert.rejects(client.read(realmId, entity, current.Id, ctx), (err) => {
      assert.ok(isQboError(err) && err.category === 'not_found');
      return true;
    });
  } else {
    const answer = await client.void(realmId, entity, current, ctx);
    assert.equal(answer.SyncToken, String(Number(current.SyncToken) + 1));
    const voided = await client.read(realmId, entity, current.Id, ctx);
    assert.equal(voided.TotalAmt, 0);
    assert.match(String(voided.PrivateNote), /^Voided/);
    assert.equal('status' in voided, false, 'a void has no status field');
  }
}

/** What CDC must show after the record's end. */
function assertEnded(sample: EntitySample, changed: QboObject | undefined): void {
  assert.ok(changed, `CDC returned the ${sample.entity}`);
  if (sample.end === 'delete') assert.equal(changed.status, 'Deleted');
  if (sample.end === 'deactivate') assert.equal(changed.Active, false);
  if (sample.end === 'void') assert.match(String(changed.PrivateNote), /^Voided/);
}

describe('every declared entity through the client, over HTTP', () => {
  for (const sample of ENTITY_SAMPLES) {
    it(`${sample.entity}: create, read, query, update, ${sample.end}, CDC`, async () => {
      const { entity } = sample;
      const created = await client.create(realmId, entity, sample.create(refs), ctx);
      assert.match(created.Id ?? '', /^\d+$/);
      assert.equal(created.SyncToken, '0');

      const read = await client.read(realmId, entity, created.Id ?? '', ctx);
      assert.deepEqual(read, created);

      const page = await client.query(
        realmId,
        { entity, where: [{ field: 'Id', op: '=', value: created.Id ?? '' }] },
        ctx,
      );
      assert.deepEqual(
        page.rows.map((r) => r.Id),
        [created.Id],
      );

      const updated = await client.update(
        realmId,
        entity,
        { Id: created.Id ?? '', SyncToken: created.SyncToken ?? '', ...sample.update },
        ctx,
      );
      assert.equal(updated.SyncToken, '1');
      for (const [key, value] of Object.entries(sample.update)) assert.deepEqual(updated[key], value);

      await end(sample, updated);

      const cdc = await client.cdc(realmId, [entity], since, ctx);
      assertEnded(
        sample,
        cdc.changes[entity]?.find((r) => r.Id === created.Id),
      );
    });
  }

  it('a write replayed with the same requestid creates one record and answers the same', async () => {
    const replay = { ...ctx, requestId: 'entities-replay-1' };
    const first = await client.create(realmId, 'Customer', { DisplayName: 'Replayed Customer' }, replay);
    const again = await client.create(realmId, 'Customer', { DisplayName: 'Replayed Customer' }, replay);
    assert.deepEqual(again, first);
    const page = await client.query(
      realmId,
      { entity: 'Customer', where: [{ field: 'DisplayName', op: '=', value: 'Replayed Customer' }] },
      ctx,
    );
    assert.equal(page.rows.length, 1);
  });

  it('names the field of a validation fault: a duplicate name and a missing required field', async () => {
    await client.create(realmId, 'Vendor', { DisplayName: 'Twice Vendor' }, ctx);
    await assert.rejects(client.create(realmId, 'Vendor', { DisplayName: 'Twice Vendor' }, ctx), (err) => {
      assert.ok(isQboError(err) && err.code === '6240' && err.category === 'validation');
      return true;
    });
    await assert.rejects(client.create(realmId, 'Invoice', { Line: [{ Amount: 1 }] }, ctx), (err) => {
      assert.ok(isQboError(err) && err.category === 'validation');
      assert.equal(err.field, 'CustomerRef');
      return true;
    });
  });

  it('TaxCode: read and queried, refused on write and by CDC', async () => {
    const read = await client.read(realmId, 'TaxCode', '2', ctx);
    assert.equal(read.Id, '2');
    const page = await client.query(realmId, { entity: 'TaxCode' }, ctx);
    assert.ok(page.rows.some((r) => r.Id === '2'));
    const refused = (err: unknown) => {
      assert.ok(isQboError(err) && err.category === 'validation' && err.code === '500', String(err));
      return true;
    };
    await assert.rejects(client.create(realmId, 'TaxCode', { Name: 'New tax' }, ctx), refused);
    await assert.rejects(client.cdc(realmId, ['TaxCode'], since, ctx), refused);
  });
});
