import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placesToCheck } from './name-places.js';

const place = (errorId: string, from: number, to: number) => ({ errorId, from, to });

describe('which places an Id that failed alone could stand for', () => {
  it('pairs every Id with each place alone in its range', () => {
    const a = place('a', 0, 10);
    const b = place('b', 5, 20);
    assert.deepEqual(placesToCheck([a, b], ['7', '9']), [
      { place: a, id: '7' },
      { place: a, id: '9' },
      { place: b, id: '7' },
      { place: b, id: '9' },
    ]);
  });

  it('leaves out a range holding two places: its records cannot be told apart by a count', () => {
    const c = place('c', 30, 40);
    assert.deepEqual(placesToCheck([place('a', 0, 10), place('b', 0, 10), c], ['7']), [
      { place: c, id: '7' },
    ]);
  });

  it('asks nothing without an Id, and at most the given number of counts', () => {
    assert.deepEqual(placesToCheck([place('a', 0, 10)], []), []);
    const many = Array.from({ length: 8 }, (_, i) => place(String(i), i * 10, i * 10 + 10));
    assert.equal(placesToCheck(many, ['1', '2'], 5).length, 5);
    assert.equal(placesToCheck(many, ['1', '2']).length, 10);
  });
});
