import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consumerGroupId } from './group-id.js';

describe('consumerGroupId', () => {
  it('names a group by topic prefix, service and consumer', () => {
    assert.equal(
      consumerGroupId({ prefix: 'staging.', service: 'auth-service', consumer: 'status-view' }),
      'staging.auth-service.status-view',
    );
    assert.equal(
      consumerGroupId({ service: 'token-service', consumer: 'disconnect' }),
      'token-service.disconnect',
    );
  });

  it("appends a projection store's generation", () => {
    assert.equal(
      consumerGroupId({ service: 'webhook-ingest', consumer: 'realm-orgs', generation: 'b1e2' }),
      'webhook-ingest.realm-orgs.b1e2',
    );
  });

  it('refuses a name that would make the rule ambiguous', () => {
    assert.throws(() => consumerGroupId({ service: 'auth-service', consumer: 'status.view' }), /consumer/);
    assert.throws(() => consumerGroupId({ service: '', consumer: 'x' }), /service/);
  });
});
