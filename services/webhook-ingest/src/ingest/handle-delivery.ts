import {
  type CatalogEvent,
  DEFAULT_MAX_MESSAGE_BYTES,
  type EventFactory,
  MESSAGE_HEADROOM_BYTES,
} from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import { hasCode } from '@qbo/service-kit/errors';
import { type EntityChange, groupByRealm, parseNotifications } from '../domain/notification.js';
import { verifySignature } from '../domain/signature.js';
import type { WebhookMetrics } from '../metrics.js';
import type { KeptEntries, KeptEntry } from '../store/kept-entries.js';
import type { ParkedChanges } from '../store/parked-changes.js';
import type { RealmOrgs } from '../store/realm-orgs.js';
import type { SeenEvents } from '../store/seen-events.js';
import { isMessageTooLarge, type Publish } from './publish.js';
import type { ReplayParked } from './replay-parked.js';
import { bodyParked, changeNotified, changeParked } from './to-events.js';

export interface DeliveryDeps {
  verifierTokens: () => readonly string[];
  realms: RealmOrgs;
  seen: SeenEvents;
  parked: ParkedChanges;
  kept: KeptEntries;
  replay: ReplayParked;
  publish: Publish;
  events: EventFactory;
  metrics: WebhookMetrics;
  log: Logger;
  dedupeWindowMs: number;
  /** Entries whose event time is older than this are kept as `stale`, not published; under `dedupeWindowMs`. */
  maxEventAgeMs: number;
  /** The topics' `max.message.bytes`: a body whose parked event would not fit is kept as `too_large`. */
  maxMessageBytes?: number;
  now?: () => number;
}

export type DeliveryOutcome =
  | { status: 200; routed: number; parked: number; duplicates: number; kept?: number }
  | {
      status: 400 | 401 | 413;
      code: 'unparsable' | 'too_large' | 'missing_signature' | 'bad_signature' | 'not_configured';
    };

/**
 * One verified delivery: parse, drop redeliveries, keep what cannot be published (malformed entries, entries
 * too old to tell from a replay), route each other change to its realm's org (or park it), publish, and only
 * then remember the ids. Any failure throws, and the edge answers 503 so Intuit retries.
 */
export function createHandleDelivery(deps: DeliveryDeps) {
  const { realms, seen, parked, kept, replay, publish, events, metrics, log, dedupeWindowMs } = deps;
  const { maxEventAgeMs, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES } = deps;
  const now = deps.now ?? Date.now;

  return async (
    raw: Uint8Array,
    signature: string | undefined,
    expiresAt = Number.POSITIVE_INFINITY,
  ): Promise<DeliveryOutcome> => {
    const tokens = deps.verifierTokens();
    if (tokens.length === 0) return reject('not_configured');
    if (!signature) return reject('missing_signature');
    if (!verifySignature(raw, signature, tokens)) return reject('bad_signature');
    metrics.verified();

    const at = now();
    const receivedAt = new Date(at).toISOString();
    const body = Buffer.from(raw).toString('utf8');
    const parsed = parseNotifications(body);
    if (!parsed.ok) return parkUnparsable(raw, body, receivedAt, parsed.reason, expiresAt);

    const fresh = uniqueById(parsed.changes);
    // Independent lookups, so one round trip of latency rather than two.
    const [already, orgs] = await Promise.all([
      seen.seen(
        fresh.map((c) => c.eventId),
        dedupeWindowMs,
      ),
      realms.lookup([...new Set(fresh.map((c) => c.realmId))]),
    ]);
    const duplicates = parsed.changes.length - fresh.filter((c) => !already.has(c.eventId)).length;
    const keep: KeptEntry[] = parsed.malformed.map((m) => malformedEntry(m.detail, m.entry, m.realmId));
    // Past the age limit a change could be a replay whose dedupe record is gone: kept, never published.
    const changes: EntityChange[] = [];
    for (const change of fresh) {
      if (already.has(change.eventId)) continue;
      const ageMs = at - Date.parse(change.occurredAt);
      if (ageMs <= maxEventAgeMs) changes.push(change);
      else
        keep.push({
          reason: 'stale',
          detail: `event time ${change.occurredAt} is ${Math.round(ageMs / 60_000)} min old, over ${Math.round(maxEventAgeMs / 60_000)} min`,
          realmId: change.realmId,
          eventId: change.eventId,
          body: JSON.stringify(change),
        });
    }

    const out: CatalogEvent[] = [];
    const published: EntityChange[] = [];
    const unknown: EntityChange[] = [];
    for (const [realmId, group] of groupByRealm(changes)) {
      const orgId = orgs.get(realmId);
      for (const change of group) {
        try {
          out.push(
            orgId
              ? changeNotified(events, orgId, change, receivedAt)
              : changeParked(events, change, receivedAt),
          );
        } catch (err) {
          // Readable, but outside the event contract (a realm id that is not digits): a retry would fail alike.
          if (!isSchemaViolation(err)) throw err;
          keep.push(malformedEntry('outside the event contract', change, realmId));
          continue;
        }
        published.push(change);
        if (!orgId) unknown.push(change);
      }
    }
    // Kept first: idempotent, so a failed publish and Intuit's retry keep nothing twice.
    await kept.keep(keep, receivedAt);
    if (out.length > 0) await timed(() => publish(out, expiresAt));
    await parked.add(unknown, receivedAt);
    await seen.record(published.map((c) => c.eventId));
    await replayIfLinkedMeanwhile(unknown, receivedAt);

    const routed = published.length - unknown.length;
    metrics.changes('routed', routed);
    metrics.changes('parked', unknown.length);
    metrics.changes('duplicate', duplicates);
    if (keep.length === 0) return { status: 200, routed, parked: unknown.length, duplicates };
    metrics.changes('kept', keep.length);
    log.warn(
      {
        kept: keep.length,
        first: keep.slice(0, 5).map((k) => ({ reason: k.reason, detail: k.detail, realmId: k.realmId })),
        routed,
      },
      'webhook entries kept, not published',
    );
    return { status: 200, routed, parked: unknown.length, duplicates, kept: keep.length };
  };

  async function parkUnparsable(
    raw: Uint8Array,
    body: string,
    receivedAt: string,
    reason: string,
    expiresAt: number,
  ): Promise<DeliveryOutcome> {
    // Signed by Intuit yet unreadable: kept for inspection, and 400 so it is not retried forever.
    const event = bodyParked(events, body, receivedAt);
    if (event.data.body.length < body.length || !fitsMessage(event))
      return keepTooLarge(raw, receivedAt, 'its parked event would exceed the message limit');
    try {
      await timed(() => publish([event], expiresAt));
    } catch (err) {
      // The broker's limit may be lower than configured: refused for good, so kept, and never a 503 for ever.
      if (!isMessageTooLarge(err)) throw err;
      return keepTooLarge(raw, receivedAt, 'the broker refused its parked event as too large');
    }
    metrics.rejected('unparsable');
    log.warn({ reason, bytes: body.length }, 'signed webhook body unparsable; parked');
    return { status: 400, code: 'unparsable' };
  }

  async function keepTooLarge(raw: Uint8Array, receivedAt: string, detail: string): Promise<DeliveryOutcome> {
    await kept.keep([{ reason: 'too_large', detail, body: raw }], receivedAt);
    metrics.rejected('too_large_to_publish');
    log.warn(
      { bytes: raw.length, maxMessageBytes, detail },
      'signed webhook body too large to publish; kept',
    );
    return { status: 413, code: 'too_large' };
  }

  function fitsMessage(event: CatalogEvent): boolean {
    return Buffer.byteLength(JSON.stringify(event)) <= maxMessageBytes - MESSAGE_HEADROOM_BYTES;
  }

  function reject(code: 'missing_signature' | 'bad_signature' | 'not_configured'): DeliveryOutcome {
    metrics.rejected(code);
    // The audit line: never the signature or the body, which an attacker chose.
    log.warn({ reason: code }, 'webhook rejected');
    return { status: 401, code };
  }

  async function timed(run: () => Promise<void>) {
    const started = performance.now();
    await run();
    metrics.publishLatency(performance.now() - started);
  }

  // A connection event handled between the lookup and the parked insert found nothing to replay; look again.
  // Only this delivery's changes (received from `receivedAt` on) are the newly linked org's for certain.
  async function replayIfLinkedMeanwhile(unknown: readonly EntityChange[], receivedAt: string) {
    if (unknown.length === 0) return;
    const linked = await realms.lookup([...new Set(unknown.map((c) => c.realmId))]);
    for (const [realmId, orgId] of linked) await replay(realmId, orgId, receivedAt);
  }
}

const malformedEntry = (detail: string, entry: unknown, realmId: string | undefined): KeptEntry => ({
  reason: 'malformed_entry',
  detail,
  ...(realmId ? { realmId } : {}),
  body: JSON.stringify(entry) ?? String(entry),
});

export type HandleDelivery = ReturnType<typeof createHandleDelivery>;

function uniqueById(changes: readonly EntityChange[]): EntityChange[] {
  const byId = new Map<string, EntityChange>();
  for (const change of changes) if (!byId.has(change.eventId)) byId.set(change.eventId, change);
  return [...byId.values()];
}

const isSchemaViolation = (err: unknown): boolean => hasCode(err, 'event_schema_violation');
