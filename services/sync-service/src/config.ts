import { eventBusEnvShape } from '@qbo/event-bus';
import { env, Secret, serviceEnvShape } from '@qbo/service-kit';
import { orgJwtEnvShape, requireOrgKey } from '@qbo/service-kit/org-auth';
import { z } from 'zod';
import { DEFAULT_SYNC_ENTITIES, entityDecls } from './domain/entities.js';

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;

export const configSchema = z
  .object({
    ...serviceEnvShape,
    ...eventBusEnvShape,
    PORT: env.port(8082),
    /** Intuit's Accounting API (tests and the local stack: the simulator). */
    QBO_API_BASE_URL: z.url().default('https://quickbooks.api.intuit.com'),
    /** Where the access tokens come from, and the credential this service presents there. */
    TOKEN_SERVICE_URL: z.url(),
    TOKEN_SERVICE_CREDENTIAL: env.secret(),
    /** The fleet-wide rate budget per realm (required: without it replicas could exceed Intuit's limits together). */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).transform((v) => new Secret(v)),
    /** The entities mirrored, by QuickBooks name; each must be declared in src/domain/entities.ts. */
    SYNC_ENTITIES: env
      .list()
      .default([...DEFAULT_SYNC_ENTITIES])
      .pipe(
        z
          .array(z.string())
          .min(1)
          .refine((names) => names.every((n) => entityDecls.some((d) => d.name === n)), {
            message: `each must be one of ${entityDecls.map((d) => d.name).join(', ')}`,
          }),
      ),
    /** Rows per query page (Intuit's maximum is 1,000). */
    SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(1000),
    /** A delta per company at least this often, jittered by ±10 % (a run held up by a backlog spreads its next start over the interval); webhooks bring it forward. */
    SYNC_INTERVAL_MS: env.positiveInt(15 * MINUTE_MS),
    /** A reconciliation for deletes CDC can no longer show, this often per company. */
    SYNC_RECONCILE_INTERVAL_MS: env.positiveInt(DAY_MS),
    /** Notifications within this window are served by one CDC call. */
    SYNC_WEBHOOK_DEBOUNCE_MS: z.coerce.number().int().min(0).default(1_000),
    /** How long an org's lease lives without a heartbeat; a crashed run is resumed after it. */
    SYNC_LEASE_TTL_MS: env.positiveInt(30 * SECOND_MS),
    /** How far behind Intuit's clock cursors stay, for changes Intuit's CDC shows late. */
    SYNC_CURSOR_MARGIN_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(60 * SECOND_MS),
    /** CDC is used while the cursor is younger than this (Intuit's limit is 30 days). */
    SYNC_CDC_WINDOW_MS: env.positiveInt(29 * DAY_MS),
    SYNC_MAX_CONCURRENT_RUNS: env.positiveInt(4),
    SYNC_POLL_MS: env.positiveInt(500),
    SYNC_RETRY_BASE_MS: env.positiveInt(5 * SECOND_MS),
    SYNC_RETRY_MAX_MS: env.positiveInt(15 * MINUTE_MS),
    /** The shortest interval between deltas a company may be given through the API. */
    SYNC_MIN_INTERVAL_MS: env.positiveInt(MINUTE_MS),
    /** The longest (a week): past it a company would mostly be read by windows instead of one CDC call. */
    SYNC_MAX_INTERVAL_MS: env.positiveInt(7 * DAY_MS),
    /** The org credential the API takes, checked as auth-service checks it (`@qbo/service-kit/org-auth`). */
    ...orgJwtEnvShape,
    /** `ConnectionSyncFailing` is emitted when a company's runs have failed this many times in a row. */
    SYNC_FAILURE_ALERT_AFTER: env.positiveInt(3),
    /** A record retried by command is not asked of Intuit again sooner; a retry meanwhile gets the last answer. */
    SYNC_RETRY_RECORD_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(30 * SECOND_MS),
    /**
     * How long a disconnected company's data is kept: a reconnect of the same company within it resumes from
     * its checkpoint (one CDC call); past it everything of the company is purged.
     */
    SYNC_DISCONNECT_GRACE_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(7 * DAY_MS),
    /** How often the lifecycle job looks for due purges (grace periods ended, erasures asked for). */
    SYNC_PURGE_POLL_MS: env.positiveInt(5 * SECOND_MS),
    /** Rows per purge or retention batch: one short transaction each, so syncs never wait long behind them. */
    SYNC_PURGE_BATCH_SIZE: env.positiveInt(500),
    /** Retention of `qbo_api_log` rows (each call to Intuit, with its query). */
    SYNC_API_LOG_RETENTION_MS: env.positiveInt(30 * DAY_MS),
    /** Retention of finished runs (`sync_run`, `sync_run_entity`). */
    SYNC_RUN_RETENTION_MS: env.positiveInt(90 * DAY_MS),
    /** Retention of resolved error rows (`sync_error`); open ones stay until resolved. */
    SYNC_ERROR_RETENTION_MS: env.positiveInt(90 * DAY_MS),
    /** How often the retention job runs. */
    SYNC_RETENTION_INTERVAL_MS: env.positiveInt(60 * MINUTE_MS),
    /**
     * How long the worker waits after a write-back command for more of the same org, so that a burst goes to
     * Intuit in batches of 30 instead of a call each.
     */
    SYNC_PUSH_WINDOW_MS: z.coerce.number().int().min(0).default(250),
  })
  .superRefine((c, ctx) => {
    requireOrgKey(c, ctx);
    if (c.SYNC_MIN_INTERVAL_MS > c.SYNC_MAX_INTERVAL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SYNC_MIN_INTERVAL_MS'],
        message: 'must not exceed SYNC_MAX_INTERVAL_MS',
      });
    }
    if (c.SYNC_CDC_WINDOW_MS >= 30 * DAY_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SYNC_CDC_WINDOW_MS'],
        message: 'must stay inside Intuit’s 30 days',
      });
    }
  });

export type Config = z.output<typeof configSchema>;
