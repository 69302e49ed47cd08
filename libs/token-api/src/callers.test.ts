import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mayCall,
  operationsOf,
  parseTokenApiCallers,
  TokenApiCallersError,
  tokenApiCallers,
} from './callers.js';
import { identifyCaller } from './service-credential.js';

const problemsOf = (spec: string) => {
  try {
    parseTokenApiCallers(spec);
  } catch (err) {
    if (err instanceof TokenApiCallersError) return err.problems;
    throw err;
  }
  return [];
};

describe('token API callers', () => {
  it('gives auth-service store and revoke, sync-service token reads and refreshes, the operator status', () => {
    assert.deepEqual(operationsOf('auth-service'), ['store', 'revoke']);
    assert.deepEqual(operationsOf('sync-service'), ['accessToken', 'refresh']);
    assert.deepEqual(operationsOf('operator'), ['status']);
    assert.equal(mayCall('auth-service', 'accessToken'), false);
    assert.equal(mayCall('sync-service', 'store'), false);
  });

  it('reads each caller with several secrets during a rotation', () => {
    const callers = parseTokenApiCallers(
      ' auth-service=old-auth-credential-01,new-auth-credential-01 ; sync-service=sync-credential-00001;',
    );
    assert.deepEqual(callers.get('auth-service'), ['old-auth-credential-01', 'new-auth-credential-01']);
    assert.deepEqual(callers.get('sync-service'), ['sync-credential-00001']);
    assert.equal(callers.has('operator'), false);
  });

  it('refuses unknown callers, shared or short secrets and repeats, naming callers and never a secret', () => {
    const problems = problemsOf(
      'auth-service=same-credential-000001;sync-service=same-credential-000001;billing=x;operator=short;operator=y',
    );
    assert.ok(
      problems.includes('sync-service and auth-service share a credential; each caller needs its own'),
    );
    assert.ok(problems.some((p) => p.startsWith('unknown caller billing')));
    assert.ok(problems.some((p) => p.startsWith('each credential of operator must be at least 16')));
    assert.ok(problems.includes('operator appears twice'));
    assert.ok(!problems.join(' ').includes('same-credential') && !problems.join(' ').includes('short'));
    assert.deepEqual(problemsOf(''), ['names no caller']);
    assert.deepEqual(problemsOf('just-a-secret-without-a-caller'), [
      'each entry must be written caller=secret[,secret]',
    ]);
  });

  it('identifies the caller a bearer credential belongs to, and nobody for anything else', () => {
    const callers = parseTokenApiCallers(
      'auth-service=auth-credential-000001,auth-credential-000002;sync-service=sync-credential-000001',
    );
    assert.equal(identifyCaller('Bearer auth-credential-000002', callers), 'auth-service');
    assert.equal(identifyCaller('Bearer sync-credential-000001', callers), 'sync-service');
    assert.equal(identifyCaller('Bearer sync-credential-000002', callers), undefined);
    assert.equal(identifyCaller('Basic sync-credential-000001', callers), undefined);
    assert.equal(identifyCaller(undefined, callers), undefined);
    assert.equal(tokenApiCallers.length, 3);
  });
});
