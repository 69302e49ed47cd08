import type { Logger } from '@qbo/service-kit';
import type { Config, CrashPoint } from './config.js';

/**
 * The test crash hook: at the configured point the process dies as a kill would (exit 137), so a test can
 * prove a crash there loses nothing. Config accepts a point only under a test runner; otherwise a no-op.
 */
export function crashHook(config: Config, log: Logger): (point: CrashPoint) => void {
  const crashAt = config.TOKEN_TEST_CRASH_AT;
  return (point) => {
    if (crashAt !== point) return;
    log.warn({ point }, 'test crash point reached; exiting');
    process.exit(137);
  };
}
