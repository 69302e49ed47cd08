import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RealmOrgs } from '../store/realm-orgs.js';
import type { SeenEvents } from '../store/seen-events.js';
import { memorySeenEvents } from '../testing/fakes.js';
import { batchSeenEvents, cacheRealmOrgs } from './batched-store.js';

const WINDOW = 60_000;

/** A store whose writes wait for a gate, so a test can look while a record is not yet committed. */
function gatedStore(fail = false) {
  const inner = memorySeenEvents();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const store: SeenEvents = {
    ...inner,
    record: async (ids) => {
      await gate;
      if (fail) throw new Error('database unavailable');
      await inner.record(ids);
    },
  };
  return { store, inner, open };
}

describe('batchSeenEvents (write-behind records)', () => {
  it('answers a record at once and counts its ids as seen before they are committed', async () => {
    const { store, inner, open } = gatedStore();
    const seen = batchSeenEvents(store, WINDOW, () => assert.fail('no error expected'));
    await seen.record(['a', 'b']);
    assert.equal(inner.ids.size, 0, 'not committed yet');
    assert.deepEqual([...(await seen.seen(['a', 'c'], WINDOW))], ['a']);
    open();
    await seen.flush();
    assert.deepEqual([...inner.ids].sort(), ['a', 'b']);
    assert.deepEqual([...(await seen.seen(['b', 'c'], WINDOW))], ['b']);
  });

  it('reports a failed record and stops holding its ids, so a later redelivery publishes again', async () => {
    const { store, open } = gatedStore(true);
    const errors: unknown[] = [];
    const seen = batchSeenEvents(store, WINDOW, (err) => errors.push(err));
    await seen.record(['a']);
    assert.deepEqual([...(await seen.seen(['a'], WINDOW))], ['a']);
    open();
    await seen.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual([...(await seen.seen(['a'], WINDOW))], []);
  });
});

const AT = '2026-03-01T12:00:00.000Z';

describe('cacheRealmOrgs', () => {
  const store = () => {
    const links = new Map<string, string>();
    let lookups = 0;
    const realms: RealmOrgs = {
      lookup: async (ids) => {
        lookups++;
        return new Map(ids.flatMap((id) => (links.has(id) ? [[id, links.get(id) as string]] : [])));
      },
      link: async ({ realmId, orgId }) => {
        if (orgId === 'org-older') return false;
        links.set(realmId, orgId);
        return true;
      },
      unlink: async (realmId) => void links.delete(realmId),
      isEmpty: async () => links.size === 0,
    };
    return { realms, links, lookups: () => lookups };
  };

  it('answers a found realm from memory until the time to live passes, never caching an unknown one', async () => {
    let clock = 0;
    const { realms, links, lookups } = store();
    const cached = cacheRealmOrgs(realms, 1_000, () => clock);
    links.set('1', 'org-a');
    assert.deepEqual([...(await cached.lookup(['1', '2']))], [['1', 'org-a']]);
    assert.equal(lookups(), 1);
    links.set('2', 'org-b'); // linked by another replica
    links.set('1', 'org-c'); // moved by another replica
    assert.deepEqual(
      [...(await cached.lookup(['1', '2']))],
      [
        ['1', 'org-a'],
        ['2', 'org-b'],
      ],
    );
    assert.equal(lookups(), 2, 'only the unknown realm was looked up');
    clock = 1_001;
    assert.deepEqual([...(await cached.lookup(['1']))], [['1', 'org-c']]);
  });

  it('forgets at once what this replica unlinks, and knows at once what it links', async () => {
    const { realms, lookups } = store();
    const cached = cacheRealmOrgs(realms, 60_000);
    await cached.link({ realmId: '1', orgId: 'org-a', connectionId: 'c1', at: AT });
    assert.deepEqual([...(await cached.lookup(['1']))], [['1', 'org-a']]);
    assert.equal(lookups(), 0);
    await cached.unlink('1', 'c1', AT);
    assert.deepEqual([...(await cached.lookup(['1']))], []);
  });

  it('keeps the link it knows when the store refuses an older one', async () => {
    const { realms } = store();
    const cached = cacheRealmOrgs(realms, 60_000);
    await cached.link({ realmId: '1', orgId: 'org-a', connectionId: 'c1', at: AT });
    assert.equal(await cached.link({ realmId: '1', orgId: 'org-older', connectionId: 'c0', at: AT }), false);
    assert.deepEqual([...(await cached.lookup(['1']))], [['1', 'org-a']]);
  });
});
