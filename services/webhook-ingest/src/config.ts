import { eventBusEnvShape } from '@qbo/event-bus';
import { env, Secret, serviceEnvShape } from '@qbo/service-kit';
import { z } from 'zod';

const HOUR_MS = 3_600_000;

export const configSchema = z
  .object({
    ...serviceEnvShape,
    ...eventBusEnvShape,
    PORT: env.port(8083),
    /**
     * Intuit verifier tokens, comma-separated: during a rotation both the old and the new one verify. Unset, every
     * delivery is refused with 401 (the service still starts, so probes and the projection work).
     */
    WEBHOOK_VERIFIER_TOKENS: env
      .list()
      .pipe(z.array(z.string().min(16, 'each token must be at least 16 characters')))
      .transform((tokens) => tokens.map((t) => new Secret(t)))
      .optional(),
    /** Intuit's payloads are small; anything larger is refused before it is read whole. */
    WEBHOOK_MAX_BODY_BYTES: env.positiveInt(256 * 1024),
    /** Time to verify, route and have Kafka acknowledge; well under Intuit's 3 s so a 503 still arrives in time. */
    WEBHOOK_DEADLINE_MS: env.positiveInt(2_000),
    /**
     * How long a found realm → org link is answered from memory (0: every delivery asks the store). A link made
     * by another replica's projection consumer, or a realm moving to another org, is seen within this time.
     */
    WEBHOOK_REALM_CACHE_MS: z.coerce.number().int().nonnegative().default(5_000),
    /** Redeliveries of an event id within this window are acknowledged without publishing again. */
    WEBHOOK_DEDUPE_WINDOW_MS: env.positiveInt(48 * HOUR_MS),
    /**
     * An entry whose event time (CloudEvents `time`, legacy `lastUpdated`) is older than this is not published but
     * kept (`stale`): its dedupe record may be gone, so it could be a replay. Must stay under the dedupe window.
     * 24 h takes every retry of Intuit's schedule (10 s … 6 h, the last fixed one about 12.5 h after the first
     * attempt) and the first repeat after it.
     */
    WEBHOOK_MAX_EVENT_AGE_MS: env.positiveInt(24 * HOUR_MS),
    /**
     * How long a change of an unknown realm stays parked: only an org whose connection of the realm is at most
     * this much younger than the change gets it replayed; older parked changes are pruned.
     */
    WEBHOOK_PARK_WINDOW_MS: env.positiveInt(HOUR_MS),
    /** A request's headers must have arrived within this time of its connection being ready, or it is cut off. */
    WEBHOOK_HEADERS_TIMEOUT_MS: env.positiveInt(5_000),
    /** A request's body must have arrived within this time of its headers, or it is cut off (408, connection closed). */
    WEBHOOK_BODY_TIMEOUT_MS: env.positiveInt(5_000),
  })
  .superRefine((c, ctx) => {
    if (c.WEBHOOK_MAX_EVENT_AGE_MS >= c.WEBHOOK_DEDUPE_WINDOW_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_MAX_EVENT_AGE_MS'],
        message:
          'must be shorter than WEBHOOK_DEDUPE_WINDOW_MS, or a replay past the dedupe window would publish again',
      });
  });

export type Config = z.output<typeof configSchema>;
