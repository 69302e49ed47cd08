import { z } from 'zod';
import { ENTITY_NAMES } from '../../domain/entities/types.js';
import { SEEDED_ENTITIES } from '../../domain/seed.js';
import { FAULT_KINDS } from '../../faults/fault-rules.js';

const entity = z.enum(ENTITY_NAMES);
// Only the entities seeding fills: a count for another would be silently ignored.
const counts = z.partialRecord(z.enum(SEEDED_ENTITIES), z.number().int().min(0).max(1_000_000));

export const seedSchema = z.object({
  seed: z.number().int(),
  companies: z.number().int().min(1).max(100),
  records: z.number().int().min(0).max(1_000_000).optional(),
  counts: counts.optional(),
});

export const companySchema = z.object({
  realmId: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
  name: z.string().min(1).optional(),
});

export const changeSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), entity, data: z.record(z.string(), z.unknown()) }),
  z.object({ op: z.literal('update'), entity, id: z.string(), data: z.record(z.string(), z.unknown()) }),
  z.object({ op: z.literal('delete'), entity, id: z.string() }),
  z.object({ op: z.literal('void'), entity, id: z.string() }),
  z.object({ op: z.literal('merge'), entity, id: z.string(), into: z.string() }),
]);

export const faultSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    realmId: z.string().optional(),
    endpoint: z.string().optional(),
    times: z.number().int().min(1).optional(),
    latencyMs: z.number().int().min(0).optional(),
    entity: entity.optional(),
    recordId: z.string().min(1).optional(),
    code: z.enum(['4002', '10000']).optional(),
  })
  .refine((f) => f.kind !== 'poison' || (f.entity !== undefined && f.recordId !== undefined), {
    message: 'a poison fault needs entity and recordId',
  });

export const bulkChangesSchema = z.object({
  /** The one instant every change is stamped with: epoch ms or ISO text; now when absent. */
  at: z
    .union([z.number(), z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'not a date-time')])
    .optional(),
  changes: z.array(changeSchema).min(1).max(10_000),
});

export const policiesSchema = z.object({
  mergeLoser: z.enum(['deleted', 'inactive']).optional(),
  mergeRelink: z.enum(['touch', 'silent']).optional(),
  entityUrlCase: z.enum(['lowercase', 'any']).optional(),
  batchOverflow: z.enum(['truncate', 'fault']).optional(),
  throttleFormat: z.enum(['accept', 'xml']).optional(),
});

export const clockSchema = z.object({
  advanceMs: z.number().optional(),
  set: z.union([z.number(), z.string()]).optional(),
  freeze: z.boolean().optional(),
});

export const limitsSchema = z.object({
  enabled: z.boolean().optional(),
  perMinutePerRealm: z.number().int().min(1).optional(),
  perSecondPerRealmApp: z.number().int().min(1).optional(),
  concurrentPerRealmApp: z.number().int().min(1).optional(),
  batchPerMinutePerRealmApp: z.number().int().min(1).optional(),
  batchPerMinutePerRealm: z.number().int().min(1).optional(),
  countThrottled: z.boolean().optional(),
});

export const targetSchema = z.object({
  url: z.url(),
  format: z.enum(['legacy', 'cloudevents', 'both']),
  verifierToken: z.string().min(1),
  clientId: z.string().optional(),
  entities: z.array(entity).optional(),
});

export const consentSchema = z.union([
  z.object({ decision: z.literal('approve'), realmId: z.string().optional() }),
  z.object({ decision: z.literal('deny') }),
]);

/** Drops keys whose value is undefined, for options typed with exactOptionalPropertyTypes. */
export const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
