import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildQuery, QueryBuildError, quote } from './query.js';

describe('buildQuery', () => {
  it('builds the incremental sync query', () => {
    assert.equal(
      buildQuery({
        entity: 'Customer',
        where: [
          { field: 'MetaData.LastUpdatedTime', op: '>=', value: new Date('2024-01-01T08:00:00Z') },
          { field: 'Active', op: 'IN', value: [true, false] },
        ],
        orderBy: { field: 'MetaData.LastUpdatedTime' },
        startPosition: 1,
        maxResults: 200,
      }),
      "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '2024-01-01T08:00:00.000Z' AND Active IN (true, false) ORDERBY MetaData.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 200",
    );
  });

  it('escapes apostrophes and backslashes so a value cannot end its quotes', () => {
    assert.equal(quote("O'Brien & Co"), "'O\\'Brien & Co'");
    assert.equal(quote("x\\' OR 1=1 --"), "'x\\\\\\' OR 1=1 --'");
    const injected = buildQuery({
      entity: 'Customer',
      where: [{ field: 'DisplayName', op: '=', value: "a' AND Id = '1" }],
    });
    assert.equal(injected, "SELECT * FROM Customer WHERE DisplayName = 'a\\' AND Id = \\'1'");
  });

  it('counts', () => {
    assert.equal(buildQuery({ entity: 'Invoice', count: true }), 'SELECT COUNT(*) FROM Invoice');
  });

  it('refuses names and bounds that are not part of the grammar', () => {
    const bad = [
      () => buildQuery({ entity: 'Customer; DROP', where: [] }),
      () => buildQuery({ entity: 'Customer', where: [{ field: 'Name = 1 OR x', op: '=', value: 1 }] }),
      () => buildQuery({ entity: 'Customer', maxResults: 1001 }),
      () => buildQuery({ entity: 'Customer', maxResults: 0 }),
      () => buildQuery({ entity: 'Customer', startPosition: 0 }),
      () => buildQuery({ entity: 'Customer', where: [{ field: 'Id', op: 'IN', value: [] }] }),
      () => buildQuery({ entity: 'Customer', where: [{ field: 'Balance', op: '>', value: Number.NaN }] }),
      () =>
        buildQuery({ entity: 'Customer', where: [{ field: 'DisplayName', op: '=', value: 'line\nbreak' }] }),
    ];
    for (const build of bad) assert.throws(build, QueryBuildError);
  });
});
