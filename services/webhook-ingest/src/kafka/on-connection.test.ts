import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CatalogEvent,
  ConnectionDisconnected,
  ConnectionEstablished,
  ConnectionReauthorized,
  createEventFactory,
} from '@qbo/events';
import { createLogger } from '@qbo/service-kit';
import { memoryRealmOrgs } from '../testing/fakes.js';
import { connectionHandlers } from './on-connection.js';

const REALM = '9130357766900009';
const MINUTE_MS = 60_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * MINUTE_MS).toISOString();
const auth = createEventFactory({ source: 'auth-service' });

const established = (orgId: string, minutes: number, connectionId: string, events = auth) =>
  events(ConnectionEstablished, {
    orgId,
    realmId: REALM,
    data: {
      connectionId,
      realmId: REALM,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      connectedAt: at(minutes),
    },
  });

function setUp() {
  const realms = memoryRealmOrgs();
  const replays: [string, string, string][] = [];
  const handlers = connectionHandlers({
    realms,
    replay: async (realmId, orgId, since) => {
      replays.push([realmId, orgId, since]);
      return 0;
    },
    log: createLogger({ service: 'test', level: 'silent' }),
    parkWindowMs: 10 * MINUTE_MS,
  });
  const handle = async (e: CatalogEvent) => {
    const byType = handlers as Record<string, ((event: CatalogEvent) => Promise<void>) | undefined>;
    await byType[e.type]?.(e);
  };
  return { realms, replays, handle };
}

const C1 = '0190c5a0-0000-7000-8000-000000000001';
const C2 = '0190c5a0-0000-7000-8000-000000000002';

describe('the realm → org projection', () => {
  it('links to the newest connection whatever order two orgs’ events arrive in', async () => {
    for (const order of [
      ['old', 'new'],
      ['new', 'old'],
    ]) {
      const { realms, handle } = setUp();
      const events = { old: established('org-old', 0, C1), new: established('org-new', 5, C2) };
      for (const name of order) await handle(events[name as 'old' | 'new']);
      assert.equal(realms.links.get(REALM), 'org-new', order.join(' then '));
    }
  });

  it('replays parked changes from the park window before the connection, and none for an ignored event', async () => {
    const { replays, handle } = setUp();
    await handle(established('org-new', 5, C2));
    await handle(established('org-old', 0, C1));
    assert.deepEqual(replays, [[REALM, 'org-new', at(-5)]]);
  });

  it('ignores a connection event not written by auth-service, or naming two realms', async () => {
    const { realms, handle } = setUp();
    await handle(established('org-a', 0, C1));
    await handle(established('org-intruder', 5, C2, createEventFactory({ source: 'sync-service' })));
    await handle({ ...established('org-intruder', 6, C2), realmId: '9130357766900010' });
    assert.equal(realms.links.get(REALM), 'org-a');
  });

  it('lets neither an older disconnect nor an older reauthorization undo a newer link', async () => {
    const { realms, handle } = setUp();
    await handle(established('org-a', 0, C1));
    await handle(established('org-b', 10, C2));
    await handle(
      auth(ConnectionReauthorized, {
        orgId: 'org-a',
        realmId: REALM,
        data: {
          connectionId: C1,
          realmId: REALM,
          environment: 'sandbox',
          scopes: ['com.intuit.quickbooks.accounting'],
          reauthorizedAt: at(5),
          previousStatus: 'deactivated',
        },
      }),
    );
    assert.equal(realms.links.get(REALM), 'org-b');
    await handle(
      auth(ConnectionDisconnected, {
        orgId: 'org-b',
        realmId: REALM,
        data: {
          connectionId: C2,
          realmId: REALM,
          reason: 'user_requested',
          revokedAtIntuit: true,
          disconnectedAt: at(9),
        },
      }),
    );
    assert.equal(realms.links.get(REALM), 'org-b');
    // A redelivery of the establishing event after its own disconnect does not link again.
    await handle(
      auth(ConnectionDisconnected, {
        orgId: 'org-b',
        realmId: REALM,
        data: {
          connectionId: C2,
          realmId: REALM,
          reason: 'user_requested',
          revokedAtIntuit: true,
          disconnectedAt: at(11),
        },
      }),
    );
    await handle(established('org-b', 10, C2));
    assert.equal(realms.links.get(REALM), undefined);
  });
});
