import { commandSamples } from './samples/commands.js';
import { connectionSamples } from './samples/connections.js';
import { lifecycleSamples } from './samples/lifecycle.js';
import { recordSamples } from './samples/records.js';
import type { SampleInputs } from './samples/shared.js';
import { connectionId, orgId, realmId } from './samples/shared.js';
import { syncRunSamples } from './samples/sync-runs.js';
import { tokenSamples } from './samples/tokens.js';
import { webhookSamples } from './samples/webhooks.js';

/**
 * A valid input for every event of the catalog, for tests and demos, one file of samples per event family
 * (`samples/`, as `src/events/`). `satisfies` keeps it complete: a new event without a sample does not compile.
 */
export const sampleInputs = {
  ...connectionSamples,
  ...tokenSamples,
  ...webhookSamples,
  ...recordSamples,
  ...syncRunSamples,
  ...commandSamples,
  ...lifecycleSamples,
} satisfies SampleInputs;

/** Inputs of versions still readable but no longer written, keyed `Type@version`, to test their upcasting. */
export const olderSampleInputs = {
  'UpsertRecord@1': {
    orgId,
    realmId,
    data: {
      connectionId,
      entity: 'Customer',
      sparse: false,
      requestId: 'push-0001',
      payload: { DisplayName: 'Amy’s Bird Sanctuary' },
    },
  },
  'DeleteRecord@1': {
    orgId,
    realmId,
    data: { connectionId, entity: 'Invoice', entityId: '130', syncToken: '2', requestId: 'push-0002' },
  },
} as const;
