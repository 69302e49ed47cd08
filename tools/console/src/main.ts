import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { consoleApp } from './app.js';

// The console's process: PORT, SYNC_SERVICE_URL, AUTH_SERVICE_URL, JAEGER_URL (optional), HOST (127.0.0.1).
// It holds no secret: every API call carries the signed-in user's own token to the service that checks it.

const env = process.env;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (level: string, msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(
    `${JSON.stringify({ level, time: Date.now(), service: 'console', msg, ...fields })}\n`,
  );

function required(name: string): string {
  const value = env[name];
  if (!value) {
    log('fatal', 'invalid configuration', { problems: [`${name}: required`] });
    process.exit(1);
  }
  return value.replace(/\/+$/, '');
}

const app = consoleApp({
  syncUrl: required('SYNC_SERVICE_URL'),
  authUrl: required('AUTH_SERVICE_URL'),
  jaegerUrl: (env.JAEGER_URL ?? '').replace(/\/+$/, ''),
  staticDirs: [join(root, 'public'), join(root, 'dist', 'web')],
});

const server = serve(
  { fetch: app.fetch, hostname: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 8084) },
  (info) => log('info', 'service started', { port: info.port }),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
