import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({
  service: 'webhook-ingest',
  schema: 'webhook',
  root: new URL('..', import.meta.url),
  extraSteps: ['dedupe-records', 'realm-orgs-consumer', 'producer'],
});
