import { contentHash } from '@qbo/events';
import { type Connection, connect, query } from '@qbo/qbo-simulator/testing';
import { declsFor } from '../domain/entities.js';
import type { SimulatorUnderTest } from './simulator-control.js';
import type { SyncStack } from './sync-stack.js';

const grants = new Map<string, Connection>();

/** Every live record of an entity at the simulator, read over its API (inactive name-list records included). */
export async function simulatorRecords(
  sim: SimulatorUnderTest,
  realmId: string,
  entity: string,
): Promise<Map<string, Record<string, unknown>>> {
  let grant = grants.get(`${sim.url}|${realmId}`);
  if (!grant) {
    await sim.approveNext(realmId);
    grant = await connect({ url: sim.url });
    grants.set(`${sim.url}|${realmId}`, grant);
  }
  const [decl] = declsFor([entity]);
  const where = decl?.kind === 'name_list' ? ' WHERE Active IN (true, false)' : '';
  const out = new Map<string, Record<string, unknown>>();
  for (let start = 1; ; start += 1000) {
    const select = `SELECT * FROM ${entity}${where} ORDERBY Id STARTPOSITION ${start} MAXRESULTS 1000`;
    let response = await query({ url: sim.url }, grant, select);
    if (response.status === 401) {
      // The access token lapsed (the simulator clock moved past its hour): a new grant.
      await sim.approveNext(realmId);
      grant = await connect({ url: sim.url });
      grants.set(`${sim.url}|${realmId}`, grant);
      response = await query({ url: sim.url }, grant, select);
    }
    // These reads share the realm's limits with the sync under test: wait a throttle out.
    for (let i = 0; response.status === 429 && i < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      response = await query({ url: sim.url }, grant, select);
    }
    if (!response.ok) throw new Error(`simulator query of ${entity}: ${response.status}`);
    const body = (await response.json()) as { QueryResponse: Record<string, Record<string, unknown>[]> };
    const rows = body.QueryResponse[entity] ?? [];
    for (const r of rows) out.set(String(r.Id), r);
    if (rows.length < 1000) return out;
  }
}

export interface Difference {
  entity: string;
  entityId: string;
  problem: 'missing_in_mirror' | 'not_in_simulator' | 'different_content';
}

/** The mirror against the simulator, record by record: what is missing, extra or different. */
export async function mirrorDifferences(
  stack: SyncStack,
  sim: SimulatorUnderTest,
  realmId: string,
  entities: readonly string[],
): Promise<Difference[]> {
  const out: Difference[] = [];
  for (const entity of entities) {
    const remote = await simulatorRecords(sim, realmId, entity);
    const rows = await stack.db.query<{ entity_id: string; content_hash: string }>(
      `select entity_id, content_hash from sync.mirror_record
       where realm_id = $1 and entity = $2 and deleted_at is null`,
      [realmId, entity],
    );
    const local = new Map(rows.map((r) => [r.entity_id, r.content_hash]));
    for (const [id, record] of remote) {
      const hash = local.get(id);
      if (hash === undefined) out.push({ entity, entityId: id, problem: 'missing_in_mirror' });
      else if (hash !== contentHash(record)) out.push({ entity, entityId: id, problem: 'different_content' });
    }
    for (const id of local.keys()) {
      if (!remote.has(id)) out.push({ entity, entityId: id, problem: 'not_in_simulator' });
    }
  }
  return out;
}
