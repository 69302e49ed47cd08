import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QboClient } from './client/client.js';
import type { QueryPage } from './client/responses.js';
import { QboError } from './errors.js';
import { createPageSizer } from './page-size.js';
import { queryPages } from './pages.js';

const ctx = { orgId: 'org-1' };
const rows = Array.from({ length: 23 }, (_, i) => ({ Id: String(i + 1) }));

/** A fake query over 23 rows that fails the calls the test scripts, recording the page sizes asked for. */
function fakeClient(failures: (QboError | undefined)[] = []) {
  const sizes: number[] = [];
  const client: Pick<QboClient, 'query'> = {
    async query(_realm, parts) {
      sizes.push(parts.maxResults ?? 0);
      const failure = failures.shift();
      if (failure) throw failure;
      const start = (parts.startPosition ?? 1) - 1;
      const slice = rows.slice(start, start + (parts.maxResults ?? 100));
      return {
        entity: parts.entity,
        rows: slice,
        startPosition: start + 1,
        maxResults: slice.length,
      } as QueryPage<never>;
    },
  };
  return { client, sizes };
}

const fault = (category: 'server' | 'timeout' | 'validation' | 'rate_limit', status?: number) =>
  new QboError({
    category,
    code: String(status ?? category),
    message: 'x',
    attempts: 1,
    ...(status ? { status } : {}),
  });

async function collect(iterable: AsyncIterable<QueryPage>) {
  const ids: string[] = [];
  for await (const page of iterable) ids.push(...page.rows.map((r) => r.Id ?? ''));
  return ids;
}

const quick = { retry: { baseDelayMs: 1, maxDelayMs: 2 } };

describe('queryPages', () => {
  it('walks every page and stops at the first short one', async () => {
    const { client, sizes } = fakeClient();
    const ids = await collect(
      queryPages(client, '1', { entity: 'Customer' }, ctx, {
        sizer: createPageSizer({ initial: 10 }),
        ...quick,
      }),
    );
    assert.deepEqual(
      ids,
      rows.map((r) => r.Id),
    );
    assert.deepEqual(sizes, [10, 15]);
  });

  it('asks again with a quarter of the size after a 413', async () => {
    const { client, sizes } = fakeClient([fault('validation', 413)]);
    const ids = await collect(
      queryPages(client, '1', { entity: 'Customer' }, ctx, {
        sizer: createPageSizer({ initial: 8 }),
        ...quick,
      }),
    );
    assert.equal(ids.length, 23);
    assert.deepEqual(sizes.slice(0, 2), [8, 2]);
  });

  it('asks again with half the size after a timeout or a 5xx', async () => {
    const { client, sizes } = fakeClient([fault('timeout'), fault('server', 503)]);
    await collect(
      queryPages(client, '1', { entity: 'Customer' }, ctx, {
        sizer: createPageSizer({ initial: 8 }),
        ...quick,
      }),
    );
    assert.deepEqual(sizes.slice(0, 3), [8, 4, 2]);
  });

  it('retries a throttled page at the same size', async () => {
    const { client, sizes } = fakeClient([fault('rate_limit', 429)]);
    await collect(
      queryPages(client, '1', { entity: 'Customer' }, ctx, {
        sizer: createPageSizer({ initial: 8 }),
        ...quick,
      }),
    );
    assert.deepEqual(sizes.slice(0, 2), [8, 8]);
  });

  it('gives up after the configured number of consecutive failures', async () => {
    const { client } = fakeClient(Array.from({ length: 10 }, () => fault('server', 500)));
    await assert.rejects(
      collect(
        queryPages(client, '1', { entity: 'Customer' }, ctx, { retry: { maxAttempts: 3, baseDelayMs: 1 } }),
      ),
      (err: unknown) => err instanceof QboError && err.category === 'server' && err.attempts === 3,
    );
  });

  it('does not retry a validation failure', async () => {
    const { client, sizes } = fakeClient([fault('validation', 400)]);
    await assert.rejects(collect(queryPages(client, '1', { entity: 'Customer' }, ctx, quick)), QboError);
    assert.equal(sizes.length, 1);
  });
});
