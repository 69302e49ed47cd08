import { type Logger, type MikroORM, phase, runPeriodically, type ShutdownStep } from '@qbo/service-kit';
import type { Config } from '../config.js';
import { createKeptEntries } from '../store/kept-entries.js';
import { createParkedChanges } from '../store/parked-changes.js';
import { createRealmOrgs } from '../store/realm-orgs.js';
import { createSeenEvents } from '../store/seen-events.js';
import { batchRealmOrgs, batchSeenEvents, cacheRealmOrgs } from './batched-store.js';

const HOUR_MS = 3_600_000;

/**
 * The delivery path's stores as it uses them: the realm projection batched and cached, the dedupe records
 * written behind (flushed at shutdown, after the HTTP drain and before the database closes) and pruned past
 * the dedupe window, the parked changes pruned past the park window, and the kept entries.
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
  const parked = createParkedChanges(db);
  runPeriodically(
    { log, onShutdown },
    {
      name: 'parked-prune',
      everyMs: Math.min(HOUR_MS, config.WEBHOOK_PARK_WINDOW_MS),
      run: () => parked.prune(new Date(Date.now() - config.WEBHOOK_PARK_WINDOW_MS).toISOString()),
    },
  );
  return { realms, seen, parked, kept: createKeptEntries(db) };
}
