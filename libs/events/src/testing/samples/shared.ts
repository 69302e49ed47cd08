import type { CatalogDefinition, EventType } from '../../catalog.js';
import type { EventInput } from '../../define-event.js';

/** A valid input for each event type of the catalog. */
export type SampleInputs = { [T in EventType]: EventInput<Extract<CatalogDefinition, { type: T }>> };

/** The ids and times the samples share, so they name one org, company, run and command. */
export const at = '2026-11-25T10:00:00.000Z';
export const connectionId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
export const realmId = '9341453050298472';
export const orgId = 'org-acme';
export const runId = '0193a1b2-c3d4-7e5f-8a9b-00000000a001';
export const commandId = '0193a1b2-c3d4-7e5f-8a9b-00000000c001';
/** The invoice the record samples name. */
export const invoice = { connectionId, realmId, entity: 'Invoice' };
/** A load run's bracket: what its started and completed markers share. */
export const snapshot = {
  connectionId,
  realmId,
  runId,
  generation: 1,
  mode: 'initial' as const,
  entities: ['Customer', 'Invoice'],
};
