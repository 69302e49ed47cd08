import type { SimulatorUnderTest } from './simulator-control.js';
import type { SyncStack } from './sync-stack.js';

/**
 * Deletes, in QuickBooks, the first mirrored open invoice it lets go (one with a payment applied cannot be
 * deleted); returns it and its customer, whose balance Intuit moves without a new version.
 */
export async function deleteAnInvoice(
  stack: SyncStack,
  sim: SimulatorUnderTest,
  realmId: string,
  skip: readonly string[] = [],
): Promise<{ id: string; customerId: string }> {
  const rows = await stack.db.query<{ entity_id: string; customer: string }>(
    `select entity_id, payload->'CustomerRef'->>'value' as customer from sync.mirror_record
     where realm_id = $1 and entity = 'Invoice' and deleted_at is null and not (entity_id = any($2::text[]))
       and (payload->>'Balance')::numeric = (payload->>'TotalAmt')::numeric
     order by entity_id::int limit 20`,
    [realmId, skip],
  );
  for (const row of rows) {
    try {
      await sim.change(realmId, { op: 'delete', entity: 'Invoice', id: row.entity_id });
      return { id: row.entity_id, customerId: row.customer };
    } catch {
      // Linked to a payment: try the next one.
    }
  }
  throw new Error('no deletable invoice');
}

/** Sparse updates of records, one new version each, as a user's edits in QuickBooks. */
export const edits = (entity: string, ids: readonly string[], tag: string) =>
  ids.map((id) => ({
    op: 'update',
    entity,
    id,
    data: { [entity === 'Invoice' || entity === 'Payment' ? 'PrivateNote' : 'CompanyName']: `${tag}-${id}` },
  }));
