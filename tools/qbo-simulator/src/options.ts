import type { Logger } from '@qbo/service-kit';
import type { SeedCounts } from './domain/seed.js';
import type { LimitPolicy } from './limits/rate-limiter.js';
import type { OAuthApp, TokenPolicy } from './oauth/authorization-server.js';
import type { Policies } from './policies.js';
import type { WebhookPolicy, WebhookTarget } from './webhooks/dispatcher.js';

export interface SeedRequest {
  seed: number;
  companies: number;
  /** Records per company, split across entities (40% customers, 30% invoices, …). */
  records?: number;
  /** Exact counts per entity per company; wins over `records`. */
  counts?: SeedCounts;
}

export interface SimulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The base URL clients reach the simulator at, when it differs from the listening address. */
  publicUrl?: string;
  /** Epoch ms or ISO text the simulator clock starts at (wall clock when absent), and whether it stands still. */
  clock?: { start?: number | string; frozen?: boolean };
  /** OAuth apps; one default app (`sim-client-id` / `sim-client-secret`, any redirect URI) when absent. */
  apps?: OAuthApp[];
  tokens?: Partial<TokenPolicy>;
  limits?: Partial<LimitPolicy>;
  /** Which of two behaviours to serve where Intuit's is not settled (see policies.ts). */
  policies?: Partial<Policies>;
  seed?: SeedRequest;
  webhooks?: Partial<WebhookPolicy> & { targets?: WebhookTarget[] };
  /** `auto` approves at once (tests); `page` shows a consent page (the demo). */
  consent?: 'auto' | 'page';
  /** Serves the control API under `/_sim`; off unless asked for. */
  control?: boolean;
  /** Intuit cuts requests running longer than 120 s. */
  requestTimeoutMs?: number;
  /** Larger request bodies get 413 with an HTML body. */
  maxBodyBytes?: number;
  log?: Logger;
}

export const DEFAULT_APP: OAuthApp = {
  clientId: 'sim-client-id',
  clientSecret: 'sim-client-secret',
  redirectUris: [],
};

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Intuit publishes no number; 10 MB covers a 30-item batch of large invoices. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
