// What the strategies bench shares between its scenarios: the peers, the entities, what a run cost.
import { DEFAULT_SYNC_ENTITIES } from '../domain/entities.js';
import type { Counters, SimulatorUnderTest } from '../testing/simulator-control.js';
import { airbyte } from './peers/airbyte.js';
import { nango } from './peers/nango.js';
import { compareStore, type PeerStrategy, versioned } from './peers/peer-http.js';
import { singer } from './peers/singer.js';

export const ENTITIES = [...DEFAULT_SYNC_ENTITIES];
export const STRATEGIES = ['ours', 'Airbyte', 'Nango', 'Singer'] as const;
export const DAY = 86_400_000;

export interface Measured extends Cost {
  strategy: string;
  missed: number;
  wrong: number;
}

const realmCalls = (c: Counters, realmId: string) =>
  Object.entries(c[realmId] ?? {})
    .filter(([endpoint]) => endpoint !== 'token')
    .reduce((n, [, e]) => ({ calls: n.calls + e.calls, throttled: n.throttled + (e.statuses['429'] ?? 0) }), {
      calls: 0,
      throttled: 0,
    });

export interface Cost {
  /** Accounting API calls counted at the simulator (OAuth calls not included). */
  calls: number;
  /** 429s the simulator sent. */
  throttled: number;
  wallMs: number;
  /** A run that failed (the strategy gave up), if one did. */
  failed?: string | undefined;
}

/** Runs `work` and counts, at the simulator, what it cost the realm. */
export async function measure(
  sim: SimulatorUnderTest,
  realmId: string,
  work: () => Promise<void>,
): Promise<Cost> {
  const before = realmCalls(await sim.counters(), realmId);
  const started = Date.now();
  let failed: string | undefined;
  try {
    await work();
  } catch (error) {
    failed = (error as Error).message.slice(0, 200);
  }
  const wallMs = Date.now() - started;
  const after = realmCalls(await sim.counters(), realmId);
  return { calls: after.calls - before.calls, throttled: after.throttled - before.throttled, wallMs, failed };
}

/**
 * The peers over their own grants. Airbyte's and Singer's start date is one a user would set: before the
 * company's oldest record (the simulator seeds none older than 400 days), so none is left out by configuration.
 */
export async function peersOf(sim: SimulatorUnderTest, realmId: string, backoffScale: number) {
  const now = () => sim.clock();
  const startMs = (await sim.clock()) - 401 * DAY;
  return [
    await airbyte(sim, realmId, { startMs, now, backoffScale }),
    await nango(sim, realmId, { now, backoffScale }),
    await singer(sim, realmId, { startMs, now, backoffScale }),
  ];
}

export const peerProblems = (sim: SimulatorUnderTest, realmId: string, peer: PeerStrategy) =>
  compareStore(sim, realmId, ENTITIES, versioned(peer.store));

/** Lets the simulator's per-minute windows empty so each strategy starts with the realm's whole budget. */
export const freshMinute = (sim: SimulatorUnderTest) => sim.clock(61_000);
