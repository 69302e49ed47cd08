import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { currentTraceparent, parentContext, parseTraceparent } from './tracing.js';

const a = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const sameTraceLaterHop = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
const otherTrace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context', () => {
  it('reads a W3C traceparent and refuses a malformed one', () => {
    assert.equal(parseTraceparent(a)?.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(parseTraceparent('00-zz-b7ad6b7169203331-01'), undefined);
    assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-b7ad6b7169203331-01`), undefined);
  });

  it('formats the active span as a traceparent', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, parseTraceparent(a) as never);
    assert.equal(currentTraceparent(ctx), a);
    assert.equal(currentTraceparent(ROOT_CONTEXT), undefined);
  });

  it('continues from the header when it is a later hop of the envelope trace', () => {
    const span = trace.getSpanContext(parentContext(a, sameTraceLaterHop));
    assert.equal(span?.spanId, '00f067aa0ba902b7');
  });

  it('continues from the envelope when the header belongs to another trace (an outbox relay)', () => {
    const span = trace.getSpanContext(parentContext(a, otherTrace));
    assert.equal(span?.traceId, '0af7651916cd43dd8448eb211c80319c');
  });

  it('uses whichever exists when only one does', () => {
    assert.equal(
      trace.getSpanContext(parentContext(undefined, otherTrace))?.traceId,
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    assert.equal(trace.getSpanContext(parentContext(undefined, undefined)), undefined);
  });
});
