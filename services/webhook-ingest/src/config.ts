import { eventBusEnvShape } from '@qbo/event-bus';
import { env, Secret, serviceEnvShape } from '@qbo/service-kit';
import { z } from 'zod';

const HOUR_MS = 3_600_000;

export const configSchema = z.object({
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
});

export type Config = z.output<typeof configSchema>;
