import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactDeep, scrubString } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where JSON lines go; stdout unless a test captures them. */
  destination?: DestinationStream;
}

/**
 * pino JSON to stdout (written synchronously) with every secret-named field redacted at any depth and the active trace on every
 * line, read from the OpenTelemetry context rather than through a patched pino, so it holds without hooks.
 */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    serializers: { err: (e: unknown) => redactDeep(e, true), error: (e: unknown) => redactDeep(e, true) },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubString(a) : a)) as typeof args;
        return method.apply(this, scrubbed);
      },
    },
    mixin() {
      const context = trace.getActiveSpan()?.spanContext();
      return context ? { trace_id: context.traceId, span_id: context.spanId } : {};
    },
  };
  // Synchronous writes to stdout: pino's default asynchronous stream can leave a line still in flight when the
  // process exits, so the last lines of a shutdown arrive out of order or not at all. Services log little per
  // request, so the cost is small, and a collector reads stdout line by line either way.
  return pino(options, destination ?? pino.destination({ fd: 1, sync: true }));
}
