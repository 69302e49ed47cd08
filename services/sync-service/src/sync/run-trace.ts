import { type Context, type Link, ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';
import { parseTraceparent } from '@qbo/event-bus';

/**
 * The most askers one run links to besides its parent. A burst of notifications debounced into one run is
 * one trace's worth of work; a few links show where it came from without a span carrying hundreds of them
 * (the SDK's own limit is 128).
 */
export const MAX_RUN_LINKS = 16;

/** Who asked for a claimed company's sync, as `sync_target` kept it. */
export interface AskedTrace {
  /** The trace of the asker whose reason stands (the first notification of a burst, a command, the API). */
  traceparent: string | null;
  /** The other askers the run serves. */
  links: readonly string[];
  /** Whether the ask made the company due; when only its schedule did, the run starts a trace of its own. */
  due: boolean;
}

export interface RunTraceOrigin {
  /** The context the claim's span starts in: the asker's span, or the root for a scheduled run. */
  parent: Context;
  links: Link[];
}

const sameSpan = (a: SpanContext, b: SpanContext) => a.traceId === b.traceId && a.spanId === b.spanId;

/**
 * Where a run's trace starts. A run asked for (a webhook's notification, a command, an API call, a
 * connection event) continues the asker's trace, so the Intuit calls it makes and the events it writes share
 * that trace id; the other askers it serves are links. A run that only its schedule made due is a new trace,
 * linked to any asker whose debounce it overtook. Malformed values are dropped, never thrown.
 */
export function runTraceOrigin(asked: AskedTrace): RunTraceOrigin {
  const parent = asked.due ? parseTraceparent(asked.traceparent ?? undefined) : undefined;
  const others = [...(asked.due ? [] : [asked.traceparent]), ...asked.links];
  const links: Link[] = [];
  for (const value of others) {
    const context = parseTraceparent(value ?? undefined);
    if (!context || (parent && sameSpan(context, parent))) continue;
    if (links.some((l) => sameSpan(l.context, context))) continue;
    if (links.length >= MAX_RUN_LINKS) break;
    links.push({ context });
  }
  return { parent: parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT, links };
}
