import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@qbo/service-kit';

/** A real (redacting) logger whose JSON lines the test can read. */
export function captureLog(): { log: Logger; text(): string; lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ service: 'qbo-client-test', level: 'debug', destination });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
