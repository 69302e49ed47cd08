import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as a service exported it, its OTLP attribute lists turned into plain objects. */
export interface ExportedSpan {
  service: string;
  scope: string;
  name: string;
  kind: number;
  /** Hex, as OTLP/JSON carries them; `parentSpanId` is absent on a trace's root span. */
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  resource: Record<string, unknown>;
}

export interface OtlpSink {
  /** Set as `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` of the services under test. */
  tracesUrl: string;
  /** Every span received so far, in arrival order. */
  spans(): ExportedSpan[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  links?: { traceId?: string; spanId?: string }[];
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
  events?: { name: string; attributes?: KeyValue[] }[];
}
interface TracesRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

function value(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return v.stringValue ?? v.boolValue ?? v.intValue ?? v.doubleValue ?? v.bytesValue;
}
const attributes = (list: KeyValue[] = []) => Object.fromEntries(list.map((kv) => [kv.key, value(kv.value)]));

/**
 * A stand-in for the OpenTelemetry collector: it takes the OTLP/HTTP JSON the services' trace exporter sends
 * (`@opentelemetry/exporter-trace-otlp-http`) and keeps every span, so a test can read what would reach the
 * tracing backend.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  const received: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (!String(req.headers['content-type']).includes('json')) {
          res.writeHead(415).end();
          return;
        }
        const request = JSON.parse(body.toString('utf8')) as TracesRequest;
        for (const rs of request.resourceSpans ?? []) {
          const resource = attributes(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              received.push({
                service: String(resource['service.name']),
                scope: ss.scope?.name ?? '',
                name: s.name,
                kind: s.kind,
                traceId: s.traceId ?? '',
                spanId: s.spanId ?? '',
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                links: (s.links ?? []).map((l) => ({ traceId: l.traceId ?? '', spanId: l.spanId ?? '' })),
                attributes: attributes(s.attributes),
                status: s.status ?? {},
                events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
                resource,
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    tracesUrl: `http://127.0.0.1:${port}/v1/traces`,
    spans: () => [...received],
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Where any of `forbidden` (what → value) appears in a span's name, attributes, status message or events:
 * one line per finding, naming the span and the field, never the value.
 */
export function spanFindings(spans: readonly ExportedSpan[], forbidden: Record<string, string>): string[] {
  const findings = new Set<string>();
  for (const span of spans) {
    const fields: Record<string, unknown> = {
      name: span.name,
      'status.message': span.status.message,
      ...span.attributes,
      ...Object.fromEntries(span.events.map((e, i) => [`event ${i} ${e.name}`, e.attributes])),
    };
    for (const [field, v] of Object.entries(fields)) {
      const text = typeof v === 'string' ? v : JSON.stringify(v ?? null);
      for (const [what, value] of Object.entries(forbidden)) {
        if (value && text.includes(value)) findings.add(`${what} in ${span.scope} "${span.name}" ${field}`);
      }
    }
  }
  return [...findings];
}
