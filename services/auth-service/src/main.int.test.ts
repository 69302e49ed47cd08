import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({ service: 'auth-service', schema: 'auth', root: new URL('..', import.meta.url) });
