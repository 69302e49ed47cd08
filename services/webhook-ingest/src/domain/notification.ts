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

/** An entry of a delivery that is not understood: kept for inspection, while the rest is published. */
export interface MalformedEntry {
  /** What is wrong with it, e.g. a schema problem or an unknown event verb. */
  detail: string;
  /** The entry as received: a CloudEvent, a legacy notification, or one legacy entity with its realm. */
  entry: unknown;
  realmId?: string;
}

/**
 * `ok` when the body is one of the formats and at least one entry is understood (or none is malformed);
 * otherwise nothing in it can be published and the whole body is unparsable.
 */
export type ParseResult =
  | { ok: true; changes: EntityChange[]; malformed: MalformedEntry[] }
  | { ok: false; reason: string };

// Ids are strings at Intuit (realm ids exceed 2^53); numbers would lose digits.
const id = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/);
const timestamp = z
  .string()
  .min(10)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a timestamp');

const legacyBodySchema = z.object({ eventNotifications: z.array(z.unknown()).min(1) });
const legacyNotificationSchema = z.object({
  realmId: id,
  dataChangeEvent: z.object({ entities: z.array(z.unknown()) }),
});
const legacyEntitySchema = z.object({
  name: z.string().min(1).max(64),
  id,
  operation: z.enum(operations),
  lastUpdated: timestamp,
  deletedId: id.optional(),
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
 * several realms. Each entry is read on its own: one that is malformed (or of an unknown type) is returned
 * apart and does not spoil the others.
 */
export function parseNotifications(body: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const read = Array.isArray(json) ? readCloudEvents(json) : readLegacy(json);
  if (!read.ok) return read;
  const [first] = read.malformed;
  if (read.changes.length === 0 && first) return { ok: false, reason: first.detail };
  return read;
}

function readCloudEvents(events: readonly unknown[]): ParseResult {
  if (events.length === 0) return { ok: false, reason: 'not a CloudEvents batch: (root): empty' };
  const changes: EntityChange[] = [];
  const malformed: MalformedEntry[] = [];
  for (const entry of events) {
    const parsed = cloudEventSchema.safeParse(entry);
    if (!parsed.success) {
      malformed.push({ detail: `not a CloudEvent: ${describe(parsed.error)}`, entry, ...realmOf(entry) });
      continue;
    }
    const event = parsed.data;
    const [, entity = '', verb = ''] = event.type.split('.');
    const operation = verbs[verb];
    if (!operation) {
      malformed.push({
        detail: `unknown event verb in type ${event.type}`,
        entry,
        realmId: event.intuitaccountid,
      });
      continue;
    }
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
  return { ok: true, changes, malformed };
}

function readLegacy(json: unknown): ParseResult {
  const parsed = legacyBodySchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a webhook notification: ${describe(parsed.error)}` };
  const changes: EntityChange[] = [];
  const malformed: MalformedEntry[] = [];
  for (const entry of parsed.data.eventNotifications) {
    const notification = legacyNotificationSchema.safeParse(entry);
    if (!notification.success) {
      const detail = `not a webhook notification: ${describe(notification.error)}`;
      malformed.push({ detail, entry, ...realmOf(entry) });
      continue;
    }
    const { realmId } = notification.data;
    for (const raw of notification.data.dataChangeEvent.entities) {
      const e = legacyEntitySchema.safeParse(raw);
      if (!e.success) {
        // Kept as a notification of its own, so it reads (and could be replayed) like what Intuit sent.
        const kept = { realmId, dataChangeEvent: { entities: [raw] } };
        malformed.push({ detail: `not a webhook entity: ${describe(e.error)}`, entry: kept, realmId });
        continue;
      }
      changes.push({
        eventId: legacyEventId(realmId, e.data),
        realmId,
        entity: e.data.name,
        entityId: e.data.id,
        operation: e.data.operation,
        occurredAt: utc(e.data.lastUpdated),
        ...(e.data.deletedId ? { deletedId: e.data.deletedId } : {}),
        format: 'legacy',
      });
    }
  }
  return { ok: true, changes, malformed };
}

/** The realm a malformed entry names, when it names one readably. */
function realmOf(entry: unknown): { realmId?: string } {
  if (typeof entry !== 'object' || entry === null) return {};
  const { realmId, intuitaccountid } = entry as { realmId?: unknown; intuitaccountid?: unknown };
  const found = [realmId, intuitaccountid].find((v) => id.safeParse(v).success);
  return typeof found === 'string' ? { realmId: found } : {};
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
