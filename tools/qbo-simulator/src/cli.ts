#!/usr/bin/env node
import { createLogger, createShutdown, phase } from '@qbo/service-kit';
import { parseCli, USAGE, UsageError, wantsHelp } from './cli-args.js';
import { createSimulator } from './simulator.js';

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const log = createLogger({ service: 'qbo-simulator', level: process.env.LOG_LEVEL ?? 'info' });
try {
  const options = parseCli(argv, process.env);
  const simulator = await createSimulator({ ...options, log });
  const shutdown = createShutdown({ log, timeoutMs: 10_000 });
  shutdown.installProcessHandlers();
  shutdown.add({ name: 'http', phase: phase.ingress, run: () => simulator.close() });
  const companies = simulator.control
    .companies()
    .map((c) => ({ realmId: c.realmId, customers: c.counts.Customer }));
  log.info(
    {
      port: simulator.port,
      url: simulator.url,
      companies,
      control: options.control === true,
      webhooks: options.webhooks?.targets?.length ?? 0,
    },
    'service started',
  );
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  log.fatal({ err }, 'start-up failed');
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  process.exit(1);
}
