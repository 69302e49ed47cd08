import type { DatabaseOptions } from '@qbo/service-kit';

/** Applied in order at start-up into the `sync` schema; append, never edit a released entry. */
export const migrations: DatabaseOptions['migrations'] = [];
