import type { Logger } from '@qbo/service-kit';
import { type Clock, createClock } from './clock.js';
import { Counters } from './counters.js';
import { Realms } from './domain/realms.js';
import { FaultInjector } from './faults/fault-rules.js';
import { DEFAULT_LIMITS, RateLimiter } from './limits/rate-limiter.js';
import { AuthorizationServer, DEFAULT_TOKEN_POLICY } from './oauth/authorization-server.js';
import {
  DEFAULT_APP,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type SimulatorOptions,
} from './options.js';
import { DEFAULT_POLICIES, type Policies } from './policies.js';
import { DEFAULT_WEBHOOK_POLICY, WebhookDispatcher } from './webhooks/dispatcher.js';

export type ConsentDecision = { decision: 'approve'; realmId?: string } | { decision: 'deny' };

/** Everything the HTTP routes and the control API share. */
export interface Core {
  clock: Clock;
  realms: Realms;
  oauth: AuthorizationServer;
  limiter: RateLimiter;
  faults: FaultInjector;
  counters: Counters;
  webhooks: WebhookDispatcher;
  consent: 'auto' | 'page';
  /** Decisions queued by the control API for the next authorizations. */
  consentQueue: ConsentDecision[];
  /** Choices between behaviours Intuit has not settled; changed through the control API. */
  policies: Policies;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  baseUrl: () => string;
  log: Logger | undefined;
}

export function createCore(options: SimulatorOptions, baseUrl: () => string): Core {
  const start = options.clock?.start;
  const clock = createClock({
    ...(start === undefined ? {} : { start: typeof start === 'number' ? start : Date.parse(start) }),
    frozen: options.clock?.frozen ?? false,
  });
  const oauth = new AuthorizationServer(options.apps ?? [DEFAULT_APP], {
    ...DEFAULT_TOKEN_POLICY,
    ...options.tokens,
  });
  const realms = new Realms();
  const { targets = [], ...webhookPolicy } = options.webhooks ?? {};
  const webhooks = new WebhookDispatcher(targets, {
    policy: { ...DEFAULT_WEBHOOK_POLICY, ...webhookPolicy },
    now: clock.now,
    connected: (clientId, realmId) =>
      oauth.grants().some((g) => g.clientId === clientId && g.realmId === realmId && !g.revoked),
  });
  realms.onChange((events) => webhooks.publish(events));
  return {
    clock,
    realms,
    oauth,
    limiter: new RateLimiter({ ...DEFAULT_LIMITS, ...options.limits }),
    faults: new FaultInjector(),
    counters: new Counters(),
    webhooks,
    consent: options.consent ?? 'auto',
    consentQueue: [],
    policies: { ...DEFAULT_POLICIES, ...options.policies },
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    baseUrl,
    log: options.log,
  };
}
