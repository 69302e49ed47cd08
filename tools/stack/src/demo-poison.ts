import { apiCalls, counters, type Demo, getJson, post, until } from './demo-kit.js';

/** The record the demo makes unreadable at Intuit before the load: the seventh customer. */
export const POISONED = { entity: 'Customer', recordId: '7' } as const;

/** Makes one record of the company unreadable (Intuit's 4002 for every read of it) until it is fixed. */
export const armPoison = (d: Demo, realmId: string) =>
  post<{ id: number }>(`${d.sim}/_sim/faults`, { kind: 'poison', realmId, ...POISONED, code: '4002' });

interface SyncError {
  errorId: string;
  kind: string;
  entity: string | null;
  entityId: string | null;
  category: string;
  code: string;
  retryable: boolean;
  remediation: string;
  open: boolean;
  resolvedBy: string | null;
}

/**
 * The record Intuit could not return during the load is an open error of the connection, with what to do
 * about it. The record is fixed in QuickBooks (the fault removed); a retry through sync-service's errors API
 * reads it again, one call, and closes the row.
 */
export async function poisonRetried(
  d: Demo,
  connectionId: string,
  realmId: string,
  poisonFault: number,
): Promise<void> {
  const { errors } = await getJson<{ errors: SyncError[] }>(
    `${d.sync}/errors?connectionId=${connectionId}&state=open`,
    d.orgBearer,
    'list the open errors',
  );
  const row = errors.find((e) => e.kind === 'record' && e.entity === POISONED.entity);
  if (!row) throw new Error(`no open record error for the poisoned customer: ${JSON.stringify(errors)}`);
  d.step(
    `sync error ${row.errorId}: ${row.entity} (${row.category} ${row.code}, retryable ${row.retryable}) — ` +
      `remediation: ${row.remediation}`,
  );
  await fetch(`${d.sim}/_sim/faults/${poisonFault}`, { method: 'DELETE' });
  const before = apiCalls(await counters(d), realmId, 'query');
  await post(`${d.sync}/errors/${row.errorId}/retry`, {}, d.orgBearer);
  const closed = await until(
    () => getJson<SyncError>(`${d.sync}/errors/${row.errorId}`, d.orgBearer, 'read the error'),
    (e) => !e.open,
    'the retried error closed',
  );
  const calls = apiCalls(await counters(d), realmId, 'query') - before;
  d.step(
    `the record was fixed in QuickBooks; "retry" read it again (${calls} query call) and the error is ` +
      `closed (resolved by ${closed.resolvedBy})`,
  );
}
