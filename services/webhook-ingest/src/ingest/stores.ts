import { type Logger, type MikroORM, phase, runPeriodically, type ShutdownStep } from '@qbo/service-kit';
import type { Config } from '../config.js';
import { createParkedChanges } from '../store/parked-changes.js';
import { createRealmOrgs } from '../store/realm-orgs.js';
import { createSeenEvents } from '../store/seen-events.js';
import { batchRealmOrgs, batchSeenEvents, cacheRealmOrgs } from './batched-store.js';

const HOUR_MS = 3_600_000;

/**
 * The delivery path's stores as it uses them: the realm projection batched and cached, the dedupe records
 * written behind (flushed at shutdown, after the HTTP drain and before the database closes) and pruned past
 * the dedupe window, and the parked changes.
 */
export function createIngestStores({
  orm,
  config,
  log,
  onShutdown,
}: {
  orm: MikroORM;
  config: Config;
  log: Logger;
  onShutdown(step: ShutdownStep): void;
}) {
  const db = orm.em;
  const realms = cacheRealmOrgs(batchRealmOrgs(createRealmOrgs(db)), config.WEBHOOK_REALM_CACHE_MS);
  const seen = batchSeenEvents(createSeenEvents(db), config.WEBHOOK_DEDUPE_WINDOW_MS, (err) =>
    log.warn({ err }, 'dedupe record not written; a redelivery of those changes may publish again'),
  );
  onShutdown({ name: 'dedupe-records', phase: phase.consumers, run: () => seen.flush() });
  runPeriodically(
    { log, onShutdown },
    { name: 'dedupe-prune', everyMs: HOUR_MS, run: () => seen.prune(config.WEBHOOK_DEDUPE_WINDOW_MS) },
  );
  return { realms, seen, parked: createParkedChanges(db) };
}
