import { type Context, context, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { TRACEPARENT } from '@qbo/events';

/** The active span as a W3C `traceparent`, or undefined outside a sampled or unsampled span. */
export function currentTraceparent(active: Context = context.active()): string | undefined {
  const span = trace.getSpanContext(active);
  if (!span || !trace.isSpanContextValid(span)) return undefined;
  const flags = (span.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00';
  return `00-${span.traceId}-${span.spanId}-${flags}`;
}

export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (!value || !TRACEPARENT.test(value)) return undefined;
  const [, traceId, spanId, flags] = value.split('-') as [string, string, string, string];
  const context: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  return trace.isSpanContextValid(context) ? context : undefined;
}

/**
 * The context a consumer continues. The envelope's traceparent is the request that caused the event; the
 * header's may be a later hop of the same trace (a producer span) or, after an outbox relay, the relay's own
 * send span in an unrelated trace. The header wins only when it continues the envelope's trace.
 */
export function parentContext(
  envelopeTraceparent: string | undefined,
  headerTraceparent: string | undefined,
): Context {
  const fromEnvelope = parseTraceparent(envelopeTraceparent);
  const fromHeader = parseTraceparent(headerTraceparent);
  const chosen =
    fromEnvelope && fromHeader?.traceId !== fromEnvelope.traceId
      ? fromEnvelope
      : (fromHeader ?? fromEnvelope);
  return chosen ? trace.setSpanContext(ROOT_CONTEXT, chosen) : ROOT_CONTEXT;
}
