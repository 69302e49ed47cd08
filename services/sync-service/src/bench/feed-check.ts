import type { AnyEnvelope } from '@qbo/events';
import { contentHash } from '@qbo/events';
import { simulatorRecords } from '../testing/compare.js';
import type { SimulatorUnderTest } from '../testing/simulator-control.js';

interface RecordData {
  seq: string;
  entity?: string;
  entityId?: string;
  after?: unknown;
}

/** What the change log says of a company, and what is wrong with it against the simulator. */
export interface FeedCheck {
  events: number;
  /** Records on the log per entity (the latest version of each). */
  perEntity: Record<string, number>;
  /** Sequence numbers are 1, 2, 3 … with no gap and no repeat. */
  contiguous: boolean;
  problems: string[];
}

/**
 * The change log of one org against the simulator, record by record: every live record's latest version on
 * the log has the simulator's content (its payload hashed as the mirror hashes it), and the log holds no
 * record the simulator does not.
 */
export async function checkFeed(
  sim: SimulatorUnderTest,
  realmId: string,
  entities: readonly string[],
  log: readonly AnyEnvelope[],
): Promise<FeedCheck> {
  const latest = new Map<string, { hash: string | undefined; deleted: boolean }>();
  const seqs: bigint[] = [];
  for (const e of log) {
    const d = e.data as RecordData;
    seqs.push(BigInt(d.seq));
    if (e.type !== 'RecordUpserted' && e.type !== 'RecordDeleted') continue;
    const hash = d.after === undefined ? undefined : contentHash(d.after);
    latest.set(`${d.entity}/${d.entityId}`, { hash, deleted: e.type === 'RecordDeleted' });
  }
  const contiguous = seqs.every((s, i) => s === BigInt(i + 1));
  const problems: string[] = [];
  const perEntity: Record<string, number> = {};
  const note = (problem: string) => {
    if (problems.length < 20) problems.push(problem);
  };
  for (const entity of entities) {
    const remote = await simulatorRecords(sim, realmId, entity);
    perEntity[entity] = 0;
    for (const [id, record] of remote) {
      const onLog = latest.get(`${entity}/${id}`);
      if (onLog === undefined || onLog.deleted) note(`${entity} ${id} is not on the log`);
      else if (onLog.hash !== contentHash(record)) note(`${entity} ${id} differs on the log`);
      else perEntity[entity] += 1;
    }
    for (const [key, onLog] of latest) {
      const [name, id] = key.split('/');
      if (name === entity && !onLog.deleted && !remote.has(id as string))
        note(`${key} is not at the simulator`);
    }
  }
  if (!contiguous) note('sequence numbers are not 1, 2, 3 … without gaps');
  return { events: log.length, perEntity, contiguous, problems };
}
