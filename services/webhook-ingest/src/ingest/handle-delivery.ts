import type { CatalogEvent, EventFactory } from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import { hasCode } from '@qbo/service-kit/errors';
import { type EntityChange, groupByRealm, parseNotifications } from '../domain/notification.js';
import { verifySignature } from '../domain/signature.js';
import type { WebhookMetrics } from '../metrics.js';
import type { ParkedChanges } from '../store/parked-changes.js';
import type { RealmOrgs } from '../store/realm-orgs.js';
import type { SeenEvents } from '../store/seen-events.js';
import type { Publish } from './publish.js';
import type { ReplayParked } from './replay-parked.js';
import { bodyParked, changeNotified, changeParked } from './to-events.js';

export interface DeliveryDeps {
  verifierTokens: () => readonly string[];
  realms: RealmOrgs;
  seen: SeenEvents;
  parked: ParkedChanges;
  replay: ReplayParked;
  publish: Publish;
  events: EventFactory;
  metrics: WebhookMetrics;
  log: Logger;
  dedupeWindowMs: number;
  now?: () => number;
}

export type DeliveryOutcome =
  | { status: 200; routed: number; parked: number; duplicates: number }
  | { status: 400 | 401; code: 'unparsable' | 'missing_signature' | 'bad_signature' | 'not_configured' };

/**
 * One verified delivery: parse, drop redeliveries, route each change to its realm's org (or park it), publish
 * everything, and only then remember the ids. Any failure throws, and the edge answers 503 so Intuit retries.
 */
export function createHandleDelivery(deps: DeliveryDeps) {
  const { realms, seen, parked, replay, publish, events, metrics, log, dedupeWindowMs } = deps;
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

    const receivedAt = new Date(now()).toISOString();
    const body = Buffer.from(raw).toString('utf8');
    const parsed = parseNotifications(body);
    if (!parsed.ok) return parkUnparsable(body, receivedAt, parsed.reason, expiresAt);

    const fresh = uniqueById(parsed.changes);
    // Independent lookups, so one round trip of latency rather than two.
    const [already, orgs] = await Promise.all([
      seen.seen(
        fresh.map((c) => c.eventId),
        dedupeWindowMs,
      ),
      realms.lookup([...new Set(fresh.map((c) => c.realmId))]),
    ]);
    const changes = fresh.filter((c) => !already.has(c.eventId));
    const duplicates = parsed.changes.length - changes.length;
    const byRealm = groupByRealm(changes);

    const out: CatalogEvent[] = [];
    const unknown: EntityChange[] = [];
    try {
      for (const [realmId, group] of byRealm) {
        const orgId = orgs.get(realmId);
        for (const change of group) {
          if (orgId) out.push(changeNotified(events, orgId, change, receivedAt));
          else {
            unknown.push(change);
            out.push(changeParked(events, change, receivedAt));
          }
        }
      }
    } catch (err) {
      // Readable, but outside the event contract (a realm id that is not digits): a retry would fail alike.
      if (isSchemaViolation(err))
        return parkUnparsable(body, receivedAt, 'event_schema_violation', expiresAt);
      throw err;
    }
    if (out.length > 0) await timed(() => publish(out, expiresAt));
    await parked.add(unknown, receivedAt);
    await seen.record(changes.map((c) => c.eventId));
    await replayIfLinkedMeanwhile(unknown);

    metrics.changes('routed', changes.length - unknown.length);
    metrics.changes('parked', unknown.length);
    metrics.changes('duplicate', duplicates);
    return { status: 200, routed: changes.length - unknown.length, parked: unknown.length, duplicates };
  };

  async function parkUnparsable(
    body: string,
    receivedAt: string,
    reason: string,
    expiresAt: number,
  ): Promise<DeliveryOutcome> {
    // Signed by Intuit yet unreadable: kept for inspection, and 400 so it is not retried forever.
    await timed(() => publish([bodyParked(events, body, receivedAt)], expiresAt));
    metrics.rejected('unparsable');
    log.warn({ reason, bytes: body.length }, 'signed webhook body unparsable; parked');
    return { status: 400, code: 'unparsable' };
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
  async function replayIfLinkedMeanwhile(unknown: readonly EntityChange[]) {
    if (unknown.length === 0) return;
    const linked = await realms.lookup([...new Set(unknown.map((c) => c.realmId))]);
    for (const [realmId, orgId] of linked) await replay(realmId, orgId);
  }
}

export type HandleDelivery = ReturnType<typeof createHandleDelivery>;

function uniqueById(changes: readonly EntityChange[]): EntityChange[] {
  const byId = new Map<string, EntityChange>();
  for (const change of changes) if (!byId.has(change.eventId)) byId.set(change.eventId, change);
  return [...byId.values()];
}

const isSchemaViolation = (err: unknown): boolean => hasCode(err, 'event_schema_violation');
