import type { Logger, MikroORM } from '@qbo/service-kit';
import { pruneBatch, type RetentionCounts, type RetentionSettings } from '../store/retention.js';
import type { Em } from '../store/sql.js';

export interface RetentionOptions {
  orm: MikroORM;
  log: Logger;
  settings: RetentionSettings;
  batchSize: number;
  /** Batches one turn may run; the rest waits for the next turn. */
  maxBatches?: number;
}

/**
 * Deletes API log rows, finished runs and resolved errors past their retention, one short transaction per
 * batch so no sync write waits behind it. Resolves with what it deleted.
 */
export function createRetention(o: RetentionOptions): () => Promise<RetentionCounts> {
  return async () => {
    const total: RetentionCounts = { apiCalls: 0, runs: 0, errors: 0 };
    for (let i = 0; i < (o.maxBatches ?? 100); i++) {
      const n = await o.orm.em
        .fork()
        .transactional((em) => pruneBatch(em as unknown as Em, o.settings, o.batchSize));
      total.apiCalls += n.apiCalls;
      total.runs += n.runs;
      total.errors += n.errors;
      if (n.apiCalls < o.batchSize && n.runs < o.batchSize && n.errors < o.batchSize) break;
    }
    if (total.apiCalls + total.runs + total.errors > 0) o.log.info(total, 'rows past retention deleted');
    return total;
  };
}
