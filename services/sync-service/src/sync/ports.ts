import type { QboObject, QueryParts } from '@qbo/qbo-client';

/** One query of one realm, bound to the run's call context; `time` is Intuit's clock at the answer. */
export type QueryFn = (
  parts: QueryParts,
) => Promise<{ rows: QboObject[]; totalCount?: number; time?: string }>;

/** One CDC call of one realm, bound to the run's call context. */
export type CdcFn = (
  entities: readonly string[],
  since: number,
) => Promise<{ changes: Record<string, QboObject[]>; truncated: boolean; time?: string }>;
