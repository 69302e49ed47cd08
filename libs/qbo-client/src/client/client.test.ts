import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createMemoryBudgetStore } from '../budget/memory-store.js';
import type { BudgetStore } from '../budget/store.js';
import { isQboError, type QboError } from '../errors.js';
import { captureLog } from '../testing/capture-log.js';
import { memorySink } from '../testing/memory-sink.js';
import type { TokenProvider } from '../tokens.js';
import { createQboClient, type QboClientOptions } from './client.js';

const REALM = '9130000000000001';
const ctx = { orgId: 'org-1' };
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const customer = () => json(200, { Customer: { Id: '1', SyncToken: '0' } });
const unauthorised = () =>
  json(401, {
    fault: { error: [{ message: 'AuthenticationFailed', detail: 'Token expired', code: '3200' }] },
  });

/** A fetch that answers from a script and records what it was sent. */
function scripted(...answers: (() => Response | Promise<Response>)[]) {
  const sent: { url: string; authorization: string | null }[] = [];
  const fetch = (async (input: URL | string, init?: RequestInit) => {
    sent.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
    const next = answers.shift();
    if (!next) throw new Error('no more answers scripted');
    return next();
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

function tokens(): TokenProvider & { rejected: string[] } {
  let current = 'token-1';
  const rejected: string[] = [];
  return {
    rejected,
    getAccessToken: async () => current,
    async refreshAfterRejection(_realm, token) {
      rejected.push(token);
      current = 'token-2';
      return current;
    },
  };
}

const client = (overrides: Partial<QboClientOptions> & Pick<QboClientOptions, 'fetch'>) =>
  createQboClient({
    baseUrl: 'https://qbo.test',
    tokens: tokens(),
    budget: createBudget({ store: createMemoryBudgetStore(budgetLimits()) }),
    log: captureLog().log,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...overrides,
  });

async function rejection(promise: Promise<unknown>): Promise<QboError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isQboError(err), String(err));
    return err;
  }
  assert.fail('resolved');
}

describe('client call path', () => {
  it('sends the bearer token and minorversion 75', async () => {
    const { fetch, sent } = scripted(customer);
    await client({ fetch }).read(REALM, 'Customer', '1', ctx);
    assert.equal(sent[0]?.authorization, 'Bearer token-1');
    assert.equal(sent[0]?.url, `https://qbo.test/v3/company/${REALM}/customer/1?minorversion=75`);
  });

  it('reloads the token once after a 401, handing back the token that failed', async () => {
    const { fetch, sent } = scripted(unauthorised, customer);
    const provider = tokens();
    const found = await client({ fetch, tokens: provider }).read(REALM, 'Customer', '1', ctx);
    assert.equal(found.Id, '1');
    assert.deepEqual(provider.rejected, ['token-1']);
    assert.deepEqual(
      sent.map((s) => s.authorization),
      ['Bearer token-1', 'Bearer token-2'],
    );
  });

  it('gives up with an auth error when the reloaded token is refused too', async () => {
    const { fetch } = scripted(unauthorised, unauthorised);
    const err = await rejection(client({ fetch }).read(REALM, 'Customer', '1', ctx));
    assert.deepEqual([err.category, err.code, err.attempts, err.retryable], ['auth', '3200', 2, false]);
  });

  it('honours a Retry-After header should one be sent', async () => {
    const { fetch } = scripted(() => json(503, {}, { 'retry-after': '0' }), customer);
    const sink = memorySink();
    await client({ fetch, apiLog: sink, retry: { baseDelayMs: 5_000 } }).read(REALM, 'Customer', '1', ctx);
    assert.equal(sink.rows[1]?.retryDelayMs, 0);
  });

  it('treats a 200 that holds a Fault as the failure it is', async () => {
    const { fetch } = scripted(() =>
      json(200, {
        Fault: { Error: [{ Message: 'Object Not Found', code: '610' }], type: 'ValidationFault' },
      }),
    );
    const err = await rejection(client({ fetch }).read(REALM, 'Customer', '1', ctx));
    assert.equal(err.category, 'not_found');
  });

  it('sends nothing and fails as a rate_limit when the budget has no room within the bound', async () => {
    const { fetch, sent } = scripted(customer);
    const store = createMemoryBudgetStore(budgetLimits({ perMinute: 1, headroom: 0 }));
    const sink = memorySink();
    const c = client({ fetch, apiLog: sink, budget: createBudget({ store, maxWaitMs: 1_000 }) });
    await c.read(REALM, 'Customer', '1', ctx);
    const err = await rejection(c.read(REALM, 'Customer', '1', ctx));
    assert.deepEqual([err.category, err.code, err.retryable], ['rate_limit', 'budget_wait_exceeded', true]);
    assert.equal(sent.length, 1);
    assert.equal(sink.rows[1]?.faultCode, 'budget_wait_exceeded');
  });

  it('sends nothing when the budget store cannot be reached', async () => {
    const { fetch, sent } = scripted(customer);
    const down: BudgetStore = {
      tryAcquire: () => Promise.reject(new Error('connection refused')),
      release: async () => undefined,
      pause: async () => undefined,
    };
    const err = await rejection(
      client({ fetch, budget: createBudget({ store: down }) }).read(REALM, 'Customer', '1', ctx),
    );
    assert.deepEqual([err.category, err.code], ['network', 'budget_unavailable']);
    assert.equal(sent.length, 0);
  });

  it('ends with the caller’s own reason when the caller cancels', async () => {
    const cancel = new AbortController();
    const { fetch } = scripted(() => {
      cancel.abort(new Error('sync stopped'));
      throw new DOMException('aborted', 'AbortError');
    });
    await assert.rejects(
      client({ fetch }).read(REALM, 'Customer', '1', { ...ctx, signal: cancel.signal }),
      /sync stopped/,
    );
  });

  it('refuses a realm id or entity that could change the path', async () => {
    const { fetch, sent } = scripted();
    await assert.rejects(client({ fetch }).read('../1', 'Customer', '1', ctx), /realm/);
    await assert.rejects(client({ fetch }).read(REALM, 'customer/../x', '1', ctx), /entity/);
    await assert.rejects(client({ fetch }).read(REALM, 'Customer', '1?x=1', ctx), /id/);
    assert.equal(sent.length, 0);
  });
});
