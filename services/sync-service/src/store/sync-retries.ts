import { execute, query } from '@qbo/service-kit';
import type { Em } from './sql.js';
import { wantSync } from './targets.js';

/** A retry asked for: one failed record (`errorId`) or every retryable open failure of a run (`runId`). */
export interface RetryRequest {
  /** The command's id: `sync_retry`'s key, and the `commandId` of the outcome event. */
  commandId: string;
  orgId: string;
  connectionId: string;
  errorId?: string | undefined;
  runId?: string | undefined;
}

/**
 * Records a retry (a `RetrySyncError`/`RetryRunErrors` command or the API) for the worker, which does it under
 * the org's lease, and brings the company's next claim forward. Recording the same command again changes
 * nothing. Resolves with whether an active company of the org held the connection; nothing is recorded when
 * none did.
 */
export async function recordRetry(em: Em, r: RetryRequest): Promise<boolean> {
  const [target] = await query<{ realm_id: string }>(
    em,
    `select realm_id from sync_target where org_id = $1 and connection_id = $2::uuid and status = 'active'`,
    [r.orgId, r.connectionId],
  );
  if (!target) return false;
  await execute(
    em,
    `insert into sync_retry (command_id, org_id, realm_id, connection_id, error_id, run_id)
     values ($1::uuid, $2, $3, $4::uuid, $5::uuid, $6::uuid) on conflict (command_id) do nothing`,
    [r.commandId, r.orgId, target.realm_id, r.connectionId, r.errorId ?? null, r.runId ?? null],
  );
  await wantSync(em, r.orgId, target.realm_id, 0, 'retry');
  return true;
}
