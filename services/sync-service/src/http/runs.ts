import { AppError, type MikroORM } from '@qbo/service-kit';
import type { OrgVerifier } from '@qbo/service-kit/org-auth';
import type { Hono } from 'hono';
import {
  decodeRunCursor,
  encodeRunCursor,
  isUuid,
  listCallsQuery,
  listRunsQuery,
  readInput,
} from '../domain/api-input.js';
import { runView } from '../domain/run-view.js';
import { getRun, listApiCalls, listRuns, type OrgScope } from '../store/run-reads.js';
import { scopeOf } from './principal.js';

export interface RunRoutesDeps {
  orm: MikroORM;
  verifier: OrgVerifier;
  now?: () => Date;
}

const runNotFound = () => new AppError('run_not_found', 'No such sync run', { status: 404 });

/** The runs of the caller's companies (every company's for an operator), newest first, and their calls. */
export function runRoutes(app: Hono, d: RunRoutesDeps): void {
  const now = d.now ?? (() => new Date());
  const em = () => d.orm.em.fork();

  const findRun = async (scope: OrgScope, id: string) => {
    const run = isUuid(id) ? await getRun(em(), scope, id) : undefined;
    if (!run) throw runNotFound();
    return run;
  };

  app.get('/runs', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const q = readInput(listRunsQuery, c.req.query());
    const rows = await listRuns(em(), {
      scope,
      orgId: q.orgId,
      connectionId: q.connectionId,
      realmId: q.realmId,
      status: q.status,
      mode: q.mode,
      after: q.cursor === undefined ? undefined : decodeRunCursor(q.cursor),
      limit: q.limit,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return c.json({
      runs: page.map((r) => runView(r, now())),
      nextCursor:
        rows.length > q.limit && last
          ? encodeRunCursor({ startedKey: last.started_key, runId: last.run_id })
          : null,
    });
  });

  app.get('/runs/:runId', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    return c.json(runView(await findRun(scope, c.req.param('runId')), now()));
  });

  app.get('/runs/:runId/api-calls', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const run = await findRun(scope, c.req.param('runId'));
    const q = readInput(listCallsQuery, c.req.query());
    const rows = await listApiCalls(em(), { runId: run.run_id, realmId: run.realm_id }, q.cursor, q.limit);
    const page = rows.slice(0, q.limit);
    return c.json({
      runId: run.run_id,
      calls: page.map((r) => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        operation: r.operation,
        method: r.method,
        path: r.path,
        entity: r.entity_type,
        status: r.status,
        faultCode: r.fault_code,
        category: r.category,
        intuitTid: r.intuit_tid,
        traceId: r.trace_id,
        attempt: r.attempt,
        budgetWaitMs: r.budget_wait_ms,
        retryDelayMs: r.retry_delay_ms,
        durationMs: r.duration_ms,
        responseBytes: r.response_bytes,
      })),
      nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
    });
  });
}
