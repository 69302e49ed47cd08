import { createHash } from 'node:crypto';
import { z } from 'zod';

export const operations = ['Create', 'Update', 'Delete', 'Merge', 'Void', 'Emailed'] as const;
export type Operation = (typeof operations)[number];

/** One entity change as Intuit announced it, whatever the payload format it came in. */
export interface EntityChange {
  /** Stable across redeliveries: the CloudEvents `id`, or a hash of the legacy entry's fields. */
  eventId: string;
  realmId: string;
  entity: string;
  entityId: string;
  operation: Operation;
  /** Intuit's timestamp, normalised to UTC ISO-8601 with milliseconds. */
  occurredAt: string;
  /** On a merge, the id that was merged away (legacy `deletedId`). */
  deletedId?: string;
  format: 'legacy' | 'cloudevents';
}

export type ParseResult = { ok: true; changes: EntityChange[] } | { ok: false; reason: string };

// Ids are strings at Intuit (realm ids exceed 2^53); numbers would lose digits.
const id = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/);
const timestamp = z
  .string()
  .min(10)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a timestamp');

const legacySchema = z.object({
  eventNotifications: z
    .array(
      z.object({
        realmId: id,
        dataChangeEvent: z.object({
          entities: z.array(
            z.object({
              name: z.string().min(1).max(64),
              id,
              operation: z.enum(operations),
              lastUpdated: timestamp,
              deletedId: id.optional(),
            }),
          ),
        }),
      }),
    )
    .min(1),
});

const cloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(128),
  type: z.string().regex(/^qbo\.[a-z]+\.[a-z]+\.v\d+$/, 'not a qbo.<entity>.<verb>.v<N> type'),
  time: timestamp,
  intuitaccountid: id,
  intuitentityid: id,
  deletedid: id.optional(),
  intuitdeletedid: id.optional(),
  // Intuit documents a merge's merged-away id as `data.deletedid` (lower case, unlike legacy `deletedId`,
  // which some senders copy): https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/data-objects
  data: z.object({ deletedid: id.optional(), deletedId: id.optional() }).optional(),
});
const cloudEventsSchema = z.array(cloudEventSchema).min(1);

/** CloudEvents `type` verbs → the legacy operation names the rest of the platform uses. */
const verbs: Record<string, Operation> = {
  created: 'Create',
  updated: 'Update',
  deleted: 'Delete',
  merged: 'Merge',
  voided: 'Void',
  emailed: 'Emailed',
};

/** CloudEvents types carry the entity lower-cased; the API and legacy payloads use these spellings. */
const entityNames = new Map(
  [
    'Account',
    'Bill',
    'BillPayment',
    'Budget',
    'Class',
    'CreditMemo',
    'Currency',
    'Customer',
    'Department',
    'Deposit',
    'Employee',
    'Estimate',
    'Invoice',
    'Item',
    'JournalCode',
    'JournalEntry',
    'Payment',
    'PaymentMethod',
    'Preferences',
    'Purchase',
    'PurchaseOrder',
    'RefundReceipt',
    'SalesReceipt',
    'TaxAgency',
    'Term',
    'TimeActivity',
    'Transfer',
    'Vendor',
    'VendorCredit',
  ].map((name) => [name.toLowerCase(), name]),
);

const entityName = (lower: string): string =>
  entityNames.get(lower) ?? `${lower.charAt(0).toUpperCase()}${lower.slice(1)}`;

const utc = (value: string): string => new Date(value).toISOString();

const legacyEventId = (
  realmId: string,
  e: { name: string; id: string; operation: string; lastUpdated: string },
) =>
  createHash('sha256').update(`${realmId}|${e.name}|${e.id}|${e.operation}|${e.lastUpdated}`).digest('hex');

/**
 * Reads a verified delivery in either of Intuit's formats. The shape decides: a top-level array of
 * CloudEvents, or an object with `eventNotifications` (no header tells them apart). One delivery may carry
 * several realms.
 */
export function parseNotifications(body: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (Array.isArray(json)) {
    const parsed = cloudEventsSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: `not a CloudEvents batch: ${describe(parsed.error)}` };
    const changes: EntityChange[] = [];
    for (const event of parsed.data) {
      const [, entity = '', verb = ''] = event.type.split('.');
      const operation = verbs[verb];
      if (!operation) return { ok: false, reason: `unknown event verb in type ${event.type}` };
      const deletedId =
        event.data?.deletedid ?? event.data?.deletedId ?? event.deletedid ?? event.intuitdeletedid;
      changes.push({
        eventId: event.id,
        realmId: event.intuitaccountid,
        entity: entityName(entity),
        entityId: event.intuitentityid,
        operation,
        occurredAt: utc(event.time),
        ...(deletedId ? { deletedId } : {}),
        format: 'cloudevents',
      });
    }
    return { ok: true, changes };
  }
  const parsed = legacySchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a webhook notification: ${describe(parsed.error)}` };
  const changes = parsed.data.eventNotifications.flatMap((n) =>
    n.dataChangeEvent.entities.map(
      (e): EntityChange => ({
        eventId: legacyEventId(n.realmId, e),
        realmId: n.realmId,
        entity: e.name,
        entityId: e.id,
        operation: e.operation,
        occurredAt: utc(e.lastUpdated),
        ...(e.deletedId ? { deletedId: e.deletedId } : {}),
        format: 'legacy',
      }),
    ),
  );
  return { ok: true, changes };
}

const describe = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

/** The changes of one delivery, grouped by realm in first-seen order. */
export function groupByRealm(changes: readonly EntityChange[]): Map<string, EntityChange[]> {
  const groups = new Map<string, EntityChange[]>();
  for (const change of changes) {
    const group = groups.get(change.realmId);
    if (group) group.push(change);
    else groups.set(change.realmId, [change]);
  }
  return groups;
}
