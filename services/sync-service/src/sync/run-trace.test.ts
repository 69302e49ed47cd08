import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { MAX_RUN_LINKS, runTraceOrigin } from './run-trace.js';

const tp = (trace: string, span: string) => `00-${trace.padStart(32, '0')}-${span.padStart(16, '0')}-01`;
const first = tp('a1', '1');
const second = tp('b2', '2');
const third = tp('c3', '3');

const parentOf = (o: ReturnType<typeof runTraceOrigin>) => trace.getSpanContext(o.parent);
const linked = (o: ReturnType<typeof runTraceOrigin>) =>
  o.links.map((l) => `${l.context.traceId}/${l.context.spanId}`);

describe('where a run’s trace starts', () => {
  it('continues the trace of the asker that made the company due', () => {
    const origin = runTraceOrigin({ traceparent: first, links: [], due: true });
    assert.equal(parentOf(origin)?.traceId, `${'0'.repeat(30)}a1`);
    assert.equal(parentOf(origin)?.spanId, `${'0'.repeat(15)}1`);
    assert.equal(parentOf(origin)?.isRemote, true);
    assert.deepEqual(origin.links, []);
  });

  it('links the other notifications a debounced run serves, once each and never its parent', () => {
    const origin = runTraceOrigin({ traceparent: first, links: [second, first, second, third], due: true });
    assert.equal(parentOf(origin)?.traceId, `${'0'.repeat(30)}a1`);
    assert.deepEqual(linked(origin), [
      `${'0'.repeat(30)}b2/${'0'.repeat(15)}2`,
      `${'0'.repeat(30)}c3/${'0'.repeat(15)}3`,
    ]);
  });

  it('starts a new trace for a run its schedule made due, linking any asker still waiting', () => {
    const origin = runTraceOrigin({ traceparent: first, links: [second], due: false });
    assert.equal(parentOf(origin), undefined);
    assert.equal(origin.links.length, 2);
    assert.equal(origin.links[0]?.context.traceId, `${'0'.repeat(30)}a1`);
  });

  it('starts a new trace when nobody asked, or the asker’s value is malformed', () => {
    assert.equal(parentOf(runTraceOrigin({ traceparent: null, links: [], due: true })), undefined);
    const bad = runTraceOrigin({ traceparent: 'not-a-traceparent', links: ['00-zz-zz-01'], due: true });
    assert.equal(parentOf(bad), undefined);
    assert.deepEqual(bad.links, []);
  });

  it('links at most MAX_RUN_LINKS askers', () => {
    const many = Array.from({ length: MAX_RUN_LINKS * 3 }, (_, i) => tp(`f${i}`, `${i + 1}`));
    const origin = runTraceOrigin({ traceparent: first, links: many, due: true });
    assert.equal(origin.links.length, MAX_RUN_LINKS);
  });
});
