import { SpanStatusCode } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { REDACTED } from './redact.js';

/** `a=1&b=2` → `a=REDACTED&b=REDACTED`: what a span may say about a query string. */
export function redactQueryValues(query: string): string {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=REDACTED`)
    .join('&');
}

/** A URL with the values of its query hidden, the names kept. */
const redactUrlQuery = (url: string): string => {
  const at = url.indexOf('?');
  return at === -1 ? url : `${url.slice(0, at + 1)}${redactQueryValues(url.slice(at + 1))}`;
};

/**
 * Every string and number literal of a statement replaced by `?`, as the database semantic conventions ask of
 * query text that may not be parameterized (opentelemetry.io/docs/specs/semconv/database/database-spans,
 * "Sanitization of db.query.text"). `$1` placeholders stay. Strings are `'…'` with `''` inside (how Postgres
 * and MikroORM's `escapeLiteral` quote; a backslash is doubled, so it never escapes the closing quote).
 */
export function redactSqlLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, '?').replace(/(?<![\w$."])\d+(?:\.\d+)?(?![\w"])/g, '?');
}

const SQL_TEXT = ['db.query.text', 'db.statement'];
const URLS = ['url.full', 'http.url', 'http.target'];
const KAFKA_KEY = 'messaging.kafka.message.key';

/**
 * The last word on what a span may carry, applied as it ends and before any exporter sees it: no value of a
 * URL query (OAuth `code` and `state`, `realmId`), no Kafka message key (each topic is keyed by an org or realm
 * id, or a record of one), no literal in SQL text (MikroORM's own `em.execute` and entity queries splice values
 * into the text; the kit's `query`/`execute` bind them), and no database error message (Postgres quotes the
 * offending value in some; `error.type` keeps the SQLSTATE).
 */
export function createSpanRedactor(): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnding(span: Span) {
      const a = span.attributes;
      for (const key of SQL_TEXT) {
        const v = a[key];
        if (typeof v === 'string') span.setAttribute(key, redactSqlLiterals(v));
      }
      const query = a['url.query'];
      if (typeof query === 'string' && query) span.setAttribute('url.query', redactQueryValues(query));
      for (const key of URLS) {
        const v = a[key];
        if (typeof v === 'string') span.setAttribute(key, redactUrlQuery(v));
      }
      if (a[KAFKA_KEY] !== undefined) span.setAttribute(KAFKA_KEY, REDACTED);
      const database = a['db.system.name'] ?? a['db.system'];
      if (database !== undefined && span.status.code === SpanStatusCode.ERROR && span.status.message) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: `${database} error ${a['error.type'] ?? ''}`.trim(),
        });
      }
    },
    onEnd: () => undefined,
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}
