import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declsFor } from '../domain/entities.js';
import { failureAction } from './outcome.js';
import { admitPush, type PushCommand, planCalls, planPush, requestIdOf } from './plan.js';

const [customer, invoice, bill, taxCode] = declsFor(['Customer', 'Invoice', 'Bill', 'TaxCode']);

const aCommand = (over: Partial<PushCommand> = {}): PushCommand => ({
  commandId: '0193a1b2-c3d4-7e5f-8a9b-00000000c001',
  orgId: 'org-a',
  kind: 'upsert',
  entity: 'Customer',
  entityId: null,
  syncToken: null,
  sparse: true,
  void: false,
  payload: { DisplayName: 'Amy' },
  ...over,
});

describe('planPush', () => {
  it('creates when the command names no record', () => {
    assert.deepEqual(planPush(aCommand(), customer), {
      ok: true,
      call: { operation: 'create', entity: 'Customer', body: { DisplayName: 'Amy' } },
    });
  });

  it('updates with the SyncToken the caller saw, sparse as asked', () => {
    const check = planPush(aCommand({ entityId: '58', syncToken: '3', sparse: false }), customer);
    assert.deepEqual(check, {
      ok: true,
      call: {
        operation: 'update',
        entity: 'Customer',
        body: { DisplayName: 'Amy', Id: '58', SyncToken: '3', sparse: false },
      },
    });
  });

  it('refuses an update without a SyncToken, naming the field', () => {
    const check = planPush(aCommand({ entityId: '58' }), customer);
    assert.equal(check.ok, false);
    assert.deepEqual(!check.ok && check.refusal.field, 'syncToken');
  });

  it('refuses a payload that sets a field QuickBooks owns or is no field name', () => {
    for (const [payload, field] of [
      [{ DisplayName: 'A', SyncToken: '9' }, 'payload.SyncToken'],
      [{ displayName: 'A' }, 'payload.displayName'],
      [{ 'Display Name': 'A' }, 'payload.Display Name'],
    ] as const) {
      const check = planPush(aCommand({ payload }), customer);
      assert.ok(
        !check.ok && check.refusal.code === 'payload_invalid' && check.refusal.field === field,
        field,
      );
    }
  });

  it('refuses an entity the service does not write', () => {
    const check = planPush(aCommand({ entity: 'TaxCode' }), taxCode);
    assert.ok(!check.ok && check.refusal.code === 'entity_not_writable');
    assert.ok(!planPush(aCommand({ entity: 'Widget' }), undefined).ok);
  });

  it('deactivates a name-list record asked to be deleted', () => {
    const check = planPush(
      aCommand({ kind: 'delete', entityId: '58', syncToken: '3', payload: null }),
      customer,
    );
    assert.deepEqual(check, {
      ok: true,
      call: {
        operation: 'deactivate',
        entity: 'Customer',
        body: { Id: '58', SyncToken: '3', Active: false },
      },
    });
  });

  it('deletes a transaction, or voids it when asked and the entity can be voided', () => {
    const del = aCommand({ kind: 'delete', entity: 'Invoice', entityId: '9', syncToken: '1', payload: null });
    assert.equal(
      planPush(del, invoice).ok && (planPush(del, invoice) as { call: { operation: string } }).call.operation,
      'delete',
    );
    const voided = planPush({ ...del, void: true }, invoice);
    assert.ok(voided.ok && voided.call.operation === 'void');
    const bad = planPush({ ...del, entity: 'Bill', void: true }, bill);
    assert.ok(!bad.ok && bad.refusal.field === 'void');
  });
});

describe('requestIdOf', () => {
  it('is the same for the same command and attempt, and fits a batch requestid', () => {
    const id = requestIdOf('org-a', 'c1', 0);
    assert.equal(id, requestIdOf('org-a', 'c1', 0));
    assert.ok(id.length <= 36);
  });

  it('differs per org, so another org reusing a command id never gets this one replayed', () => {
    assert.notEqual(requestIdOf('org-a', 'c1', 0), requestIdOf('org-b', 'c1', 0));
    assert.notEqual(requestIdOf('org-a', 'c1', 0), requestIdOf('org-a', 'c1', 1));
  });
});

describe('planCalls', () => {
  const cmd = (entityId: string | null, entity = 'Customer') => ({ entity, entityId });

  it('cuts 90 commands into 3 calls of 30, in order', () => {
    const pending = Array.from({ length: 90 }, () => cmd(null));
    assert.deepEqual(
      planCalls(pending).map((c) => c.length),
      [30, 30, 30],
    );
  });

  it('starts a new call at a second write of the same record, keeping order', () => {
    const pending = [cmd('1'), cmd('2'), cmd('1'), cmd('1', 'Vendor'), cmd(null)];
    assert.deepEqual(planCalls(pending), [
      [cmd('1'), cmd('2')],
      [cmd('1'), cmd('1', 'Vendor'), cmd(null)],
    ]);
  });
});

describe('failureAction', () => {
  it('hands a stale SyncToken back as a conflict, never a retry', () => {
    assert.deepEqual(failureAction({ category: 'conflict', code: '5010', status: 400 }, 'Customer'), {
      action: 'conflict',
    });
  });

  it('sends a call that got no answer again as it was, and one Intuit refused for now afresh', () => {
    assert.equal(failureAction({ category: 'timeout', code: 'ETIMEDOUT' }, 'Customer').action, 'resend');
    assert.equal(
      failureAction({ category: 'rate_limit', code: '3001', status: 429 }, 'Customer').action,
      'replan',
    );
    assert.equal(
      failureAction({ category: 'server', code: '10000', status: 500 }, 'Customer').action,
      'replan',
    );
  });

  it('tries again afresh after an access token Intuit refused (401) even after a refresh, but fails a dead grant', () => {
    assert.equal(failureAction({ category: 'auth', code: '3200', status: 401 }, 'Customer').action, 'replan');
    assert.deepEqual(failureAction({ category: 'auth', code: 'reauthorization_required' }, 'Customer'), {
      action: 'failed',
    });
  });

  it('names the unique-name field of a duplicate (6240) per entity', () => {
    assert.deepEqual(failureAction({ category: 'validation', code: '6240', status: 400 }, 'Vendor'), {
      action: 'failed',
      field: 'payload.DisplayName',
    });
    assert.deepEqual(failureAction({ category: 'validation', code: '6240', status: 400 }, 'Item'), {
      action: 'failed',
      field: 'payload.Name',
    });
  });

  it("names the field Intuit's fault names", () => {
    assert.deepEqual(
      failureAction({ category: 'validation', code: '2020', status: 400, field: 'CustomerRef' }, 'Invoice'),
      { action: 'failed', field: 'payload.CustomerRef' },
    );
  });
});

describe('admitPush', () => {
  const active = { status: 'active', paused: false };
  const code = (r: ReturnType<typeof admitPush>) => (r.ok ? 'admitted' : r.refusal.code);

  it('admits a fitting command for an active company of the org', () => {
    assert.equal(code(admitPush(aCommand(), active, customer)), 'admitted');
  });

  it('refuses a connection the org does not hold, before looking at the command', () => {
    assert.equal(
      code(admitPush(aCommand({ payload: { bad: 1 } }), undefined, customer)),
      'connection_not_found',
    );
  });

  it('refuses a paused, deactivated, disconnected, erased or otherwise inactive company', () => {
    assert.equal(
      code(admitPush(aCommand(), { status: 'active', paused: true }, customer)),
      'connection_paused',
    );
    assert.equal(
      code(admitPush(aCommand(), { status: 'deactivated', paused: false }, customer)),
      'connection_deactivated',
    );
    assert.equal(
      code(admitPush(aCommand(), { status: 'disconnected', paused: false }, customer)),
      'connection_disconnected',
    );
    assert.equal(
      code(admitPush(aCommand(), { status: 'erased', paused: false }, customer)),
      'connection_erased',
    );
    assert.equal(
      code(admitPush(aCommand(), { status: 'anything-new', paused: false }, customer)),
      'connection_inactive',
    );
  });

  it('refuses a command that does not fit its entity', () => {
    assert.equal(code(admitPush(aCommand({ entityId: '1' }), active, customer)), 'payload_invalid');
  });
});
