import { setTimeout as sleep } from 'node:timers/promises';
import type { QboClient } from './client/client.js';
import type { CallContext, QboObject } from './client/context.js';
import type { QueryPage } from './client/responses.js';
import { DEFAULT_RETRY, type RetryOptions, retryDelay } from './client/retry-policy.js';
import { isQboError } from './errors.js';
import { createPageSizer, type PageSizer } from './page-size.js';
import type { QueryParts } from './query.js';

export interface QueryPagesOptions {
  sizer?: PageSizer;
  retry?: Partial<RetryOptions>;
  random?: () => number;
}

/**
 * Every page of a query, each sized by the page sizer: a page that fails with a timeout, a 5xx or a 413 is
 * asked again smaller (after a backoff for the first two), and fast pages let the size grow back. A 429 or a
 * reset connection is retried at the same size; the client has already paused the realm for a 429.
 * Consecutive failures are bounded by `retry.maxAttempts`.
 */
export async function* queryPages<T extends QboObject = QboObject>(
  client: Pick<QboClient, 'query'>,
  realmId: string,
  parts: Omit<QueryParts, 'startPosition' | 'maxResults' | 'count'>,
  ctx: CallContext,
  { sizer = createPageSizer(), retry: retryOverrides, random = Math.random }: QueryPagesOptions = {},
): AsyncGenerator<QueryPage<T>> {
  const retry = { ...DEFAULT_RETRY, ...retryOverrides };
  let position = 1;
  let failures = 0;
  for (;;) {
    const size = sizer.size;
    const started = performance.now();
    let page: QueryPage<T>;
    try {
      page = await client.query<T>(
        realmId,
        { ...parts, startPosition: position, maxResults: size },
        { ...ctx, maxAttempts: 1 },
      );
    } catch (err) {
      if (!isQboError(err) || (!err.retryable && err.status !== 413)) throw err;
      failures++;
      if (failures >= retry.maxAttempts) throw err.with({ attempts: failures });
      if (err.status === 413) {
        if (size === 1) throw err;
        sizer.failed('too_large');
        continue;
      }
      if (err.category === 'timeout') sizer.failed('timeout');
      if (err.category === 'server') sizer.failed('server');
      if (err.category !== 'rate_limit') {
        const delay = retryDelay(
          err.category,
          failures,
          { ...retry, maxAttempts: Infinity },
          undefined,
          random,
        );
        await sleep(delay ?? 0, undefined, ctx.signal ? { signal: ctx.signal } : undefined);
      }
      continue;
    }
    failures = 0;
    sizer.succeeded(performance.now() - started);
    yield page;
    if (page.rows.length < size) return;
    position += page.rows.length;
  }
}
