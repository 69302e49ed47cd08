import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@qbo/local-kafka';
import { ensureBase } from './base.js';
import { buildImage, DEPLOYABLES } from './build.js';
import { ensureEngine } from './engine.js';

// `npm run test:images`: a Docker engine (started here when none answers, and stopped again), the local
// stand-in for the Node base image (once), every deployable's image built with the project's Dockerfile, then
// the image tests (dist/*.image-test.js) against containers of those images. `--build-only` stops after the
// builds.

const print = (line: string) => process.stdout.write(`[images] ${line}\n`);

async function main(): Promise<number> {
  const root = repoRoot();
  const started = Date.now();
  const engine = await ensureEngine(join(root, '.local', 'images', 'dockerd.log'), print);
  try {
    await ensureBase(root, print);
    for (const d of DEPLOYABLES) await buildImage(root, d, { log: print });
    print(`images ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (process.argv.includes('--build-only')) return 0;
    const files = globSync(join(root, 'tools', 'images', 'dist', '*.image-test.js')).sort();
    const test = spawnSync(
      process.execPath,
      ['--test', '--test-concurrency=1', '--test-timeout=900000', '--test-reporter=spec', ...files],
      { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '--disable-warning=TimeoutNegativeWarning' } },
    );
    print(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return test.status ?? 1;
  } finally {
    await engine.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[images] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
