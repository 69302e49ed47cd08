import type { Outbox } from '@qbo/event-bus';

/** MikroORM's entity manager as the outbox takes it (a transaction's, inside `transactional`). */
export type Em = Parameters<Outbox['add']>[0];
