import { errorCategory } from '@qbo/events';
import { AppError } from '@qbo/service-kit/errors';
import { z } from 'zod';

/**
 * What the sync API accepts, checked before anything is read: a bad value is a 400 `invalid_request` naming
 * the field, and nothing happens.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id in a path that is no UUID cannot name a row: the caller gets the same 404 as for an unknown one. */
export const isUuid = (v: string): boolean => UUID.test(v);

export const invalidRequest = (field: string, problem: string): AppError =>
  new AppError('invalid_request', `Invalid ${field}: ${problem}`, { status: 400 });

/** Parses `value` with `schema`; the first problem becomes a 400 naming its field. */
export function readInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'request';
  throw invalidRequest(field, issue?.message ?? 'not valid');
}

const KEYSET_CURSOR = z.object({
  t: z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/),
  id: z.string().regex(UUID),
});

/** The position after a row in a newest-first listing: its time as Postgres printed it, and its id. */
export interface KeysetPosition {
  key: string;
  id: string;
}

export const encodeKeysetCursor = (p: KeysetPosition): string =>
  Buffer.from(JSON.stringify({ t: p.key, id: p.id })).toString('base64url');

export function decodeKeysetCursor(cursor: string): KeysetPosition {
  try {
    const { t, id } = KEYSET_CURSOR.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { key: t, id };
  } catch {
    throw invalidRequest('cursor', 'not a cursor this API returned');
  }
}

/** The position after a run in the newest-first listing: its start as Postgres printed it, and its id. */
export interface RunPosition {
  startedKey: string;
  runId: string;
}

export const encodeRunCursor = (p: RunPosition): string =>
  encodeKeysetCursor({ key: p.startedKey, id: p.runId });

export function decodeRunCursor(cursor: string): RunPosition {
  const { key, id } = decodeKeysetCursor(cursor);
  return { startedKey: key, runId: id };
}

const limit = z.coerce.number().int('must be a whole number').min(1).max(200).default(50);
const optionalText = (max: number) => z.string().min(1).max(max).optional();

export const RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export const RUN_MODES = ['initial', 'cdc', 'query', 'reconciliation'] as const;

export const listRunsQuery = z.strictObject({
  connectionId: z.string().regex(UUID, 'must be a connection id (a UUID)').optional(),
  realmId: z
    .string()
    .regex(/^\d{1,32}$/, 'must be a QuickBooks realm id (digits)')
    .optional(),
  status: z.enum(RUN_STATUSES).optional(),
  mode: z.enum(RUN_MODES).optional(),
  /** Operators only narrow to one org; for anyone else it can only narrow their own rows further. */
  orgId: optionalText(128),
  cursor: optionalText(512),
  limit,
});

export const ERROR_STATES = ['open', 'resolved'] as const;

export const listErrorsQuery = z.strictObject({
  connectionId: z.string().regex(UUID, 'must be a connection id (a UUID)').optional(),
  runId: z.string().regex(UUID, 'must be a run id (a UUID)').optional(),
  category: errorCategory.optional(),
  retryable: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional(),
  state: z.enum(ERROR_STATES).optional(),
  entity: z
    .string()
    .regex(/^[A-Za-z*]{1,64}$/, 'must be a QuickBooks entity name (Invoice …)')
    .optional(),
  orgId: optionalText(128),
  cursor: optionalText(512),
  limit,
});

export const listCallsQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'not a cursor this API returned')
    .optional(),
  limit,
});

export const syncRequestBody = z
  .strictObject({
    mode: z.enum(['incremental', 'full', 'reconciliation']),
    entity: z.string().min(1).max(64).optional(),
  })
  .superRefine((b, ctx) => {
    // CDC reads every entity of the company in one call: an incremental sync cannot be asked for one entity.
    if (b.entity !== undefined && b.mode === 'incremental') {
      ctx.addIssue({
        code: 'custom',
        path: ['entity'],
        message:
          'only a full resync or a reconciliation can be asked for one entity; an incremental sync covers the company',
      });
    }
  });

/** The body of a schedule change: the company's own interval, or null for the service's default. */
export const scheduleBody = (floorMs: number, ceilingMs: number) =>
  z.strictObject({
    intervalMs: z
      .number()
      .int('must be a whole number of milliseconds')
      .min(floorMs, `must be at least ${floorMs} (SYNC_MIN_INTERVAL_MS)`)
      .max(ceilingMs, `must be at most ${ceilingMs}`)
      .nullable(),
  });
