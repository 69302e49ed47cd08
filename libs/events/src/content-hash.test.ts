import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { contentHash } from './content-hash.js';

describe('contentHash', () => {
  it('hashes the same content the same whatever the order of its keys, at every depth', () => {
    const a = {
      Id: '1',
      SyncToken: '0',
      MetaData: { LastUpdatedTime: 't', CreateTime: 'c' },
      Lines: [{ b: 1, a: 2 }],
    };
    const b = {
      Lines: [{ a: 2, b: 1 }],
      MetaData: { CreateTime: 'c', LastUpdatedTime: 't' },
      SyncToken: '0',
      Id: '1',
    };
    assert.equal(contentHash(a), contentHash(b));
  });

  it('is the sha-256 of the canonical JSON a consumer can rebuild, undefined fields left out', () => {
    const canonical = '{"Active":true,"Id":"7","Tags":["x",null]}';
    assert.equal(
      contentHash({ Tags: ['x', null], Id: '7', Active: true, Notes: undefined }),
      createHash('sha256').update(canonical).digest('hex'),
    );
  });

  it('tells a new version from the old: SyncToken takes part', () => {
    assert.notEqual(contentHash({ Id: '1', SyncToken: '0' }), contentHash({ Id: '1', SyncToken: '1' }));
  });
});
