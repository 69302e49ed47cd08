import { reset, start, status, stop } from './broker.js';

const usage = 'usage: npm run kafka -- start|stop|status|reset';

// Ports and folder come from KAFKA_PORT, KAFKA_CONTROLLER_PORT and KAFKA_RUN_DIR when set.
const options = { log: (line: string) => process.stdout.write(`${line}\n`) };

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'start':
      await start(options);
      return 0;
    case 'stop':
      await stop(options);
      return 0;
    case 'status': {
      const s = await status(options);
      process.stdout.write(s.state === 'running' ? `running at ${s.address} (pid ${s.pid})\n` : 'stopped\n');
      return s.state === 'running' ? 0 : 3;
    }
    case 'reset':
      await reset(options);
      process.stdout.write('Kafka data removed\n');
      return 0;
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
