import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({ service: 'token-service', schema: 'token', root: new URL('..', import.meta.url) });
