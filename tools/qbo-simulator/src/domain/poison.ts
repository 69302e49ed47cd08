import type { PoisonCheck } from '../faults/fault-rules.js';
import type { Row } from './entities/types.js';
import { faults } from './fault.js';

export type { PoisonCheck };

/**
 * Fails the read of a set of records when one of them is poisoned: 4002 for the whole page or CDC window
 * (HTTP 400), or a SystemFault 10000 (HTTP 500), as a record broken by a minor-version change does.
 */
export function assertReadable(rows: Iterable<Row>, poison: PoisonCheck | undefined): void {
  if (!poison) return;
  for (const row of rows) {
    const code = poison(row.entity, row.id);
    if (code === '10000') throw faults.systemError();
    if (code === '4002') throw faults.queryProcessing('To email address entered is invalid');
  }
}
