import type { ApiLogRow, ApiLogSink } from '../api-log/row.js';

/** An API log sink that keeps rows in memory, for tests that read them back. */
export function memorySink(): ApiLogSink & { rows: ApiLogRow[] } {
  const rows: ApiLogRow[] = [];
  return { rows, write: (row) => rows.push(row) };
}
