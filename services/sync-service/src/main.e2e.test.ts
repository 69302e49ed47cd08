import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({ service: 'sync-service', schema: 'sync', root: new URL('..', import.meta.url) });
