import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPageSizer } from './page-size.js';

describe('page sizer', () => {
  it('starts moderate and grows on fast pages up to 1000', () => {
    const sizer = createPageSizer();
    assert.equal(sizer.size, 200);
    for (let i = 0; i < 20; i++) sizer.succeeded(100);
    assert.equal(sizer.size, 1000);
  });

  it('halves on slow pages, timeouts and 5xx, quarters on 413, never below 1', () => {
    const sizer = createPageSizer({ initial: 800, slowMs: 1_000 });
    sizer.succeeded(2_000);
    assert.equal(sizer.size, 400);
    sizer.failed('timeout');
    assert.equal(sizer.size, 200);
    sizer.failed('server');
    assert.equal(sizer.size, 100);
    sizer.failed('too_large');
    assert.equal(sizer.size, 25);
    for (let i = 0; i < 20; i++) sizer.failed('too_large');
    assert.equal(sizer.size, 1);
  });

  it('holds steady on pages neither fast nor slow', () => {
    const sizer = createPageSizer({ initial: 300, slowMs: 1_000 });
    sizer.succeeded(700);
    assert.equal(sizer.size, 300);
  });
});
