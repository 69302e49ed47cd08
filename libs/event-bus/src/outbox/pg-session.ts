import type { Logger } from '@qbo/service-kit';
import pg from 'pg';

export class DatabaseStepError extends Error {
  constructor(cause: unknown) {
    super('outbox database step failed', { cause });
    this.name = 'DatabaseStepError';
  }
}

export interface PgSession {
  /** Runs a step on the session's connection, connecting first if needed; a failure ends the session. */
  run<T>(step: (client: pg.Client) => Promise<T>): Promise<T>;
  readonly open: boolean;
  end(): Promise<void>;
}

/**
 * One database connection of the relay's own, opened on first use and dropped (to be reopened) when a step
 * fails. Session state, such as an advisory lock, lives and dies with it.
 */
export function createPgSession({
  connectionString,
  name,
  log,
  setup,
  onEnd,
}: {
  connectionString: string;
  name: string;
  log: Logger;
  setup?: string;
  onEnd?: () => void;
}): PgSession {
  let client: pg.Client | undefined;
  const end = async () => {
    const c = client;
    client = undefined;
    onEnd?.();
    await c?.end().catch(() => undefined);
  };
  return {
    async run(step) {
      try {
        if (!client) {
          const c = new pg.Client({ connectionString, application_name: name });
          // A lost connection surfaces on the next query; this only keeps the event from crashing the process.
          c.on('error', (err) => log.warn({ err, session: name }, 'database connection lost'));
          client = c;
          await c.connect();
          if (setup) await c.query(setup);
        }
        return await step(client);
      } catch (err) {
        await end();
        throw new DatabaseStepError(err);
      }
    },
    get open() {
      return client !== undefined;
    },
    end,
  };
}
