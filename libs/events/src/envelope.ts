import { z } from 'zod';
import { orgId, realmId, timestamp } from './fields.js';

/** W3C trace context (https://www.w3.org/TR/trace-context/#traceparent-header), version 00. */
export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The fields every event carries; an event definition narrows `type`, `version` and `data`. */
export const envelopeShape = {
  /** UUID v7: unique, and sortable by creation time. */
  id: z.uuidv7(),
  /** Past tense for facts (`ConnectionEstablished`), imperative for commands (`UpsertRecord`). */
  type: z.string().regex(/^[A-Z][A-Za-z]{2,80}$/),
  version: z.number().int().positive(),
  /** The service that wrote it. */
  source: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/),
  time: timestamp,
  orgId,
  realmId: realmId.optional(),
  /** The trace of the request that caused the event, so consumers continue it. */
  traceparent: z.string().regex(TRACEPARENT).optional(),
  tracestate: z.string().max(512).optional(),
  data: z.unknown(),
};

/** Any event: what a consumer can check before it knows the type. */
export const envelopeSchema = z.object(envelopeShape);
export type AnyEnvelope = z.output<typeof envelopeSchema>;
