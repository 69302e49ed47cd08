import type { ChangeEvent } from '../domain/company.js';
import type { EntityName } from '../domain/entities/types.js';
import { formatLegacyWebhookTime } from '../qbo-time.js';
import { newUuid } from '../random.js';
import { cloudEventSource, cloudEventsPayload, legacyPayload, type WebhookFormat } from './payloads.js';
import { signPayload } from './sign.js';

export interface WebhookTarget {
  url: string;
  format: WebhookFormat | 'both';
  verifierToken: string;
  /** Only realms this app holds a live grant for, as Intuit delivers; every realm when absent. */
  clientId?: string;
  /** Entities subscribed to; all when absent. */
  entities?: EntityName[];
}

export interface WebhookPolicy {
  /** Changes within this window go out in one delivery ("aggregated and sent periodically"). */
  batchWindowMs: number;
  /** Intuit waits 3 s for a 200. */
  deliveryTimeoutMs: number;
  /** 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h (qbo-api-facts §7.1). */
  retryScheduleMs: number[];
  /** Multiplies retry delays: 0.001 turns the 10-second first retry into 10 ms for tests. */
  timeScale: number;
}

export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  batchWindowMs: 1000,
  deliveryTimeoutMs: 3000,
  retryScheduleMs: [10_000, 20_000, 30_000, 300_000, 1_200_000, 7_200_000, 14_400_000, 21_600_000],
  timeScale: 1,
};

export interface DeliveryAttempt {
  at: string;
  status?: number;
  error?: string;
  ms: number;
}

export interface Delivery {
  id: string;
  url: string;
  format: WebhookFormat;
  realmIds: string[];
  eventCount: number;
  body: string;
  attempts: DeliveryAttempt[];
  delivered: boolean;
}

interface Channel {
  target: WebhookTarget;
  format: WebhookFormat;
  pending: ChangeEvent[];
  batchTimer: NodeJS.Timeout | undefined;
  queue: Delivery[];
  /** The running delivery loop, so a flush can wait for it. */
  sending: Promise<void> | undefined;
  retryTimer: NodeJS.Timeout | undefined;
}

export interface DispatcherDeps {
  policy: WebhookPolicy;
  now: () => number;
  /** Whether `clientId` holds a live grant for `realmId`. */
  connected: (clientId: string, realmId: string) => boolean;
  fetch?: typeof fetch;
}

const HISTORY = 1000;

/**
 * Delivers every change to every target in its format(s), signed, batched per window, and in order per
 * target and format: a failed delivery is retried on Intuit's schedule and holds back the ones behind it.
 */
export class WebhookDispatcher {
  readonly #deps: DispatcherDeps;
  readonly #channels: Channel[] = [];
  readonly #history: Delivery[] = [];
  #closed = false;

  constructor(targets: readonly WebhookTarget[], deps: DispatcherDeps) {
    this.#deps = deps;
    for (const target of targets) this.addTarget(target);
  }

  addTarget(target: WebhookTarget): void {
    const formats: WebhookFormat[] = target.format === 'both' ? ['legacy', 'cloudevents'] : [target.format];
    for (const format of formats) {
      this.#channels.push({
        target,
        format,
        pending: [],
        batchTimer: undefined,
        queue: [],
        sending: undefined,
        retryTimer: undefined,
      });
    }
  }

  targets(): WebhookTarget[] {
    return [...new Set(this.#channels.map((c) => c.target))];
  }

  deliveries(): readonly Delivery[] {
    return this.#history;
  }

  publish(events: readonly ChangeEvent[]): void {
    if (this.#closed) return;
    for (const channel of this.#channels) {
      const { clientId, entities } = channel.target;
      const wanted = events.filter(
        (e) =>
          (!entities || entities.includes(e.entity)) &&
          (clientId === undefined || this.#deps.connected(clientId, e.realmId)),
      );
      if (wanted.length === 0) continue;
      channel.pending.push(...wanted);
      channel.batchTimer ??= setTimeout(() => this.#seal(channel), this.#deps.policy.batchWindowMs);
    }
  }

  /** Seals every pending batch and retries every waiting delivery now; resolves when nothing is in flight. */
  async flush(): Promise<void> {
    for (const channel of this.#channels) {
      this.#seal(channel);
      if (channel.retryTimer) {
        clearTimeout(channel.retryTimer);
        channel.retryTimer = undefined;
      }
    }
    await Promise.all(this.#channels.map((c) => this.#pump(c)));
  }

  close(): void {
    this.#closed = true;
    for (const channel of this.#channels) {
      clearTimeout(channel.batchTimer);
      clearTimeout(channel.retryTimer);
    }
  }

  #seal(channel: Channel): void {
    clearTimeout(channel.batchTimer);
    channel.batchTimer = undefined;
    if (channel.pending.length === 0) return;
    const events = channel.pending;
    channel.pending = [];
    const bodies: { realmIds: string[]; body: string; count: number }[] = [];
    if (channel.format === 'legacy') {
      const byRealm = new Map<string, ChangeEvent[]>();
      for (const e of events) byRealm.set(e.realmId, [...(byRealm.get(e.realmId) ?? []), e]);
      for (const [realmId, list] of byRealm) {
        bodies.push({ realmIds: [realmId], body: legacyPayload(realmId, list), count: list.length });
      }
    } else {
      const source = cloudEventSource(channel.target.clientId ?? 'qbo-simulator');
      bodies.push({
        realmIds: [...new Set(events.map((e) => e.realmId))],
        body: cloudEventsPayload(events, source),
        count: events.length,
      });
    }
    for (const b of bodies) {
      const delivery: Delivery = {
        id: newUuid(),
        url: channel.target.url,
        format: channel.format,
        realmIds: b.realmIds,
        eventCount: b.count,
        body: b.body,
        attempts: [],
        delivered: false,
      };
      channel.queue.push(delivery);
      this.#history.push(delivery);
      if (this.#history.length > HISTORY) this.#history.shift();
    }
    void this.#pump(channel);
  }

  #pump(channel: Channel): Promise<void> {
    if (channel.sending) return channel.sending;
    if (channel.retryTimer || this.#closed) return Promise.resolve();
    channel.sending = this.#drain(channel).finally(() => {
      channel.sending = undefined;
    });
    return channel.sending;
  }

  async #drain(channel: Channel): Promise<void> {
    while (channel.queue.length > 0 && !this.#closed) {
      const delivery = channel.queue[0] as Delivery;
      if (await this.#attempt(channel, delivery)) {
        channel.queue.shift();
        continue;
      }
      const schedule = this.#deps.policy.retryScheduleMs;
      const delay =
        (schedule[Math.min(delivery.attempts.length, schedule.length) - 1] ?? 21_600_000) *
        this.#deps.policy.timeScale;
      channel.retryTimer = setTimeout(() => {
        channel.retryTimer = undefined;
        void this.#pump(channel);
      }, delay);
      channel.retryTimer.unref?.();
      return;
    }
  }

  async #attempt(channel: Channel, delivery: Delivery): Promise<boolean> {
    const started = Date.now();
    const attempt: DeliveryAttempt = { at: new Date(this.#deps.now()).toISOString(), ms: 0 };
    delivery.attempts.push(attempt);
    try {
      const response = await (this.#deps.fetch ?? fetch)(delivery.url, {
        method: 'POST',
        body: delivery.body,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'intuit-signature': signPayload(channel.target.verifierToken, delivery.body),
          'intuit-created-time': formatLegacyWebhookTime(this.#deps.now()),
          'intuit-t-id': newUuid(),
          'intuit-notification-schema-version': '0.1',
          'user-agent': 'intuit_notification_server/0.1',
          accept: 'application/json',
        },
        signal: AbortSignal.timeout(this.#deps.policy.deliveryTimeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      attempt.status = response.status;
      attempt.ms = Date.now() - started;
      delivery.delivered = response.status >= 200 && response.status < 300;
      return delivery.delivered;
    } catch (err) {
      attempt.error = err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'connection failed';
      attempt.ms = Date.now() - started;
      return false;
    }
  }
}
