import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Attributes, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createSpanRedactor, redactSqlLiterals } from './span-redaction.js';

function exported(attributes: Attributes, status?: { code: SpanStatusCode; message: string }) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [createSpanRedactor(), new SimpleSpanProcessor({ exporter })],
  });
  const span = provider.getTracer('test').startSpan('s', { attributes });
  if (status) span.setStatus(status);
  span.end();
  const [out] = exporter.getFinishedSpans();
  assert.ok(out);
  return out;
}

describe('span redaction', () => {
  it('replaces every string and number literal of SQL text and keeps placeholders and identifiers', () => {
    assert.equal(
      redactSqlLiterals(
        `insert into "s"."effects" ("m0", n) values ('org-1', 'it''s', E'a\\\\b', -42, 1.5, $1, $12::int4) limit 100`,
      ),
      `insert into "s"."effects" ("m0", n) values (?, ?, E?, -?, ?, $1, $12::int4) limit ?`,
    );
  });

  it('hides SQL literals, URL query values, Kafka keys and database error text before export', () => {
    const span = exported(
      {
        'db.system.name': 'postgresql',
        'db.query.text': "select * from t where org_id = 'org-secret'",
        'error.type': '22P02',
        'url.query': 'code=c0de&state=st4te',
        'url.full': 'http://h/p?realmId=9130&x=1',
        'messaging.kafka.message.key': 'org-secret',
      },
      { code: SpanStatusCode.ERROR, message: 'invalid input syntax for type uuid: "org-secret"' },
    );
    assert.deepEqual(span.attributes, {
      'db.system.name': 'postgresql',
      'db.query.text': 'select * from t where org_id = ?',
      'error.type': '22P02',
      'url.query': 'code=REDACTED&state=REDACTED',
      'url.full': 'http://h/p?realmId=REDACTED&x=REDACTED',
      'messaging.kafka.message.key': '[REDACTED]',
    });
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'postgresql error 22P02' });
  });

  it('leaves a span without such attributes as it was', () => {
    const span = exported({ 'http.route': '/connections/:id', 'url.path': '/connections/1' });
    assert.deepEqual(span.attributes, { 'http.route': '/connections/:id', 'url.path': '/connections/1' });
  });
});
