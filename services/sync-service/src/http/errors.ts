import { randomUUID } from 'node:crypto';
import { AppError, type Logger, type MikroORM } from '@qbo/service-kit';
import type { OrgVerifier } from '@qbo/service-kit/org-auth';
import type { Hono } from 'hono';
import {
  decodeKeysetCursor,
  encodeKeysetCursor,
  isUuid,
  listErrorsQuery,
  readInput,
} from '../domain/api-input.js';
import { type ErrorRecord, getError, listErrors } from '../store/error-reads.js';
import { getRun, type OrgScope } from '../store/run-reads.js';
import { type RetryRequest, recordRetry } from '../store/sync-retries.js';
import { scopeOf } from './principal.js';

export interface ErrorRoutesDeps {
  orm: MikroORM;
  verifier: OrgVerifier;
  log: Logger;
}

const errorNotFound = () => new AppError('error_not_found', 'No such sync error', { status: 404 });
const runNotFound = () => new AppError('run_not_found', 'No such sync run', { status: 404 });
const inactive = () =>
  new AppError('connection_inactive', 'The connection is not active; the company must reconnect', {
    status: 409,
  });

const iso = (v: Date | null) => (v === null ? null : new Date(v).toISOString());

const errorView = (e: ErrorRecord) => ({
  errorId: e.error_id,
  orgId: e.org_id,
  realmId: e.realm_id,
  connectionId: e.connection_id,
  kind: e.kind,
  entity: e.entity,
  entityId: e.entity_id,
  // A record Intuit never showed the Id of is known by its place: a second's records ordered by Id.
  place:
    e.entity_id === null && e.range_from !== null
      ? { from: iso(e.range_from), to: iso(e.range_to), position: e.position, afterId: e.after_id }
      : null,
  category: e.category,
  code: e.code,
  retryable: e.retryable,
  remediation: e.remediation,
  attempts: e.attempts,
  firstSeenAt: iso(e.first_seen_at),
  lastSeenAt: iso(e.last_seen_at),
  firstRunId: e.first_run_id,
  lastRunId: e.last_run_id,
  apiCallId: e.api_call_id,
  open: e.resolved_at === null,
  resolvedAt: iso(e.resolved_at),
  resolvedBy: e.resolved_by,
  resolvedRunId: e.resolved_run_id,
  retriedAt: iso(e.retried_at),
});

/**
 * The error rows of the caller's companies (every company's for an operator) and their retries. A retry is
 * recorded exactly as the `RetrySyncError`/`RetryRunErrors` commands are (`recordRetry`), under a new command
 * id: the worker does it, and its outcome is the `SyncErrorRetried`/`RunErrorsRetried` event and the row.
 */
export function errorRoutes(app: Hono, d: ErrorRoutesDeps): void {
  const em = () => d.orm.em.fork();

  const findError = async (scope: OrgScope, id: string) => {
    const row = isUuid(id) ? await getError(em(), scope, id) : undefined;
    if (!row) throw errorNotFound();
    return row;
  };

  const retry = async (r: Omit<RetryRequest, 'commandId'>) => {
    const commandId = randomUUID();
    const recorded = await em().transactional((tx) => recordRetry(tx, { ...r, commandId }));
    if (!recorded) throw inactive();
    return commandId;
  };

  app.get('/errors', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const q = readInput(listErrorsQuery, c.req.query());
    const rows = await listErrors(em(), {
      scope,
      orgId: q.orgId,
      connectionId: q.connectionId,
      runId: q.runId,
      category: q.category,
      retryable: q.retryable,
      state: q.state,
      entity: q.entity,
      after: q.cursor === undefined ? undefined : decodeKeysetCursor(q.cursor),
      limit: q.limit,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return c.json({
      errors: page.map(errorView),
      nextCursor:
        rows.length > q.limit && last ? encodeKeysetCursor({ key: last.seen_key, id: last.error_id }) : null,
    });
  });

  app.get('/errors/:errorId', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    return c.json(errorView(await findError(scope, c.req.param('errorId'))));
  });

  app.post('/errors/:errorId/retry', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const row = await findError(scope, c.req.param('errorId'));
    if (row.kind !== 'record') {
      throw new AppError(
        'error_not_retryable',
        "A run's failure is retried by the company's next run (POST /connections/:connectionId/sync)",
        { status: 409 },
      );
    }
    if (row.connection_id === null || !row.connection_active) throw inactive();
    const commandId = await retry({
      orgId: row.org_id,
      connectionId: row.connection_id,
      errorId: row.error_id,
    });
    d.log.info(
      { orgId: row.org_id, errorId: row.error_id, commandId },
      'sync error retry asked through the API',
    );
    return c.json({ commandId, errorId: row.error_id, connectionId: row.connection_id, accepted: true }, 202);
  });

  app.post('/runs/:runId/retry-errors', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const id = c.req.param('runId');
    const run = isUuid(id) ? await getRun(em(), scope, id) : undefined;
    if (!run) throw runNotFound();
    const commandId = await retry({ orgId: run.org_id, connectionId: run.connection_id, runId: run.run_id });
    d.log.info({ orgId: run.org_id, runId: run.run_id, commandId }, 'run errors retry asked through the API');
    return c.json({ commandId, runId: run.run_id, connectionId: run.connection_id, accepted: true }, 202);
  });
}
