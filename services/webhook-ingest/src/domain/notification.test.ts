import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByRealm, parseNotifications } from './notification.js';

const legacy = JSON.stringify({
  eventNotifications: [
    {
      realmId: '1185883450',
      dataChangeEvent: {
        entities: [
          { name: 'Customer', id: '1', operation: 'Create', lastUpdated: '2015-10-05T14:42:19-0700' },
          {
            name: 'Customer',
            id: '7',
            operation: 'Merge',
            lastUpdated: '2015-10-05T14:42:19-0700',
            deletedId: '6',
          },
        ],
      },
    },
    {
      realmId: '4625319964620932638',
      dataChangeEvent: {
        entities: [
          { name: 'Invoice', id: '130', operation: 'Void', lastUpdated: '2025-09-08T20:52:31.657Z' },
        ],
      },
    },
  ],
});

const cloudEvents = JSON.stringify([
  {
    specversion: '1.0',
    id: '88cd52aa-33b6-4351-9aa4-47572edbd068',
    source: 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=',
    type: 'qbo.account.created.v1',
    datacontenttype: 'application/json',
    time: '2025-09-10T21:31:25.179851517Z',
    intuitentityid: '1234',
    intuitaccountid: '310687',
    data: {},
  },
  {
    specversion: '1.0',
    id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    source: 'intuit.x',
    type: 'qbo.journalentry.updated.v1',
    time: '2025-09-10T21:31:26Z',
    intuitentityid: '55',
    intuitaccountid: '9130357766900001',
    data: {},
  },
]);

describe('parseNotifications', () => {
  it('reads the legacy format across realms, keeping merges and normalising offsets to UTC', () => {
    const result = parseNotifications(legacy);
    assert.ok(result.ok);
    assert.deepEqual(
      result.changes.map(({ eventId: _id, ...rest }) => rest),
      [
        {
          realmId: '1185883450',
          entity: 'Customer',
          entityId: '1',
          operation: 'Create',
          occurredAt: '2015-10-05T21:42:19.000Z',
          format: 'legacy',
        },
        {
          realmId: '1185883450',
          entity: 'Customer',
          entityId: '7',
          operation: 'Merge',
          occurredAt: '2015-10-05T21:42:19.000Z',
          deletedId: '6',
          format: 'legacy',
        },
        {
          realmId: '4625319964620932638',
          entity: 'Invoice',
          entityId: '130',
          operation: 'Void',
          occurredAt: '2025-09-08T20:52:31.657Z',
          format: 'legacy',
        },
      ],
    );
  });

  it('gives legacy entries stable, distinct event ids so redeliveries can be recognised', () => {
    const first = parseNotifications(legacy);
    const again = parseNotifications(legacy);
    assert.ok(first.ok && again.ok);
    assert.deepEqual(
      first.changes.map((c) => c.eventId),
      again.changes.map((c) => c.eventId),
    );
    assert.equal(new Set(first.changes.map((c) => c.eventId)).size, 3);
  });

  it('reads a CloudEvents batch, mapping type to entity and operation and keeping the event id', () => {
    const result = parseNotifications(cloudEvents);
    assert.ok(result.ok);
    assert.deepEqual(result.changes, [
      {
        eventId: '88cd52aa-33b6-4351-9aa4-47572edbd068',
        realmId: '310687',
        entity: 'Account',
        entityId: '1234',
        operation: 'Create',
        occurredAt: '2025-09-10T21:31:25.179Z',
        format: 'cloudevents',
      },
      {
        eventId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
        realmId: '9130357766900001',
        entity: 'JournalEntry',
        entityId: '55',
        operation: 'Update',
        occurredAt: '2025-09-10T21:31:26.000Z',
        format: 'cloudevents',
      },
    ]);
  });

  it('reads the merged-away id of a CloudEvents merge from data.deletedid, as Intuit documents it', () => {
    const merge = JSON.stringify([
      {
        specversion: '1.0',
        id: 'merge-2-Customer-7',
        type: 'qbo.customer.merged.v1',
        time: '2025-09-10T21:31:25.179Z',
        intuitaccountid: '310687',
        intuitentityid: '7',
        data: { deletedid: '27' },
      },
    ]);
    const result = parseNotifications(merge);
    assert.ok(result.ok);
    assert.equal(result.changes[0]?.deletedId, '27');
  });

  it('reads the merged-away id of a CloudEvents merge from data.deletedId too', () => {
    const merge = JSON.stringify([
      {
        specversion: '1.0',
        id: 'merge-1',
        type: 'qbo.customer.merged.v1',
        time: '2025-09-10T21:31:25.179Z',
        intuitaccountid: '310687',
        intuitentityid: '7',
        data: { deletedId: '6' },
      },
    ]);
    const result = parseNotifications(merge);
    assert.ok(result.ok);
    assert.equal(result.changes[0]?.deletedId, '6');
  });

  it('keeps realm ids beyond 2^53 exact', () => {
    const result = parseNotifications(legacy);
    assert.ok(result.ok);
    assert.equal(result.changes[2]?.realmId, '4625319964620932638');
  });

  it('refuses bodies that are not JSON, not either format, or carry numeric ids', () => {
    const cases = [
      '{"eventNotifications":',
      '{"something":"else"}',
      '[]',
      '{"eventNotifications":[]}',
      JSON.stringify([
        {
          specversion: '1.0',
          id: 'x',
          type: 'qbo.customer.teleported.v1',
          time: '2025-01-01T00:00:00Z',
          intuitaccountid: '1',
          intuitentityid: '2',
        },
      ]),
      JSON.stringify({ eventNotifications: [{ realmId: 1185883450, dataChangeEvent: { entities: [] } }] }),
    ];
    for (const body of cases) {
      const result = parseNotifications(body);
      assert.equal(result.ok, false, body);
    }
  });

  it('groups a delivery by realm in first-seen order', () => {
    const result = parseNotifications(legacy);
    assert.ok(result.ok);
    const groups = groupByRealm(result.changes);
    assert.deepEqual([...groups.keys()], ['1185883450', '4625319964620932638']);
    assert.equal(groups.get('1185883450')?.length, 2);
  });
});
