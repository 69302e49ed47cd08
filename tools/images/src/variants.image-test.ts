import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '@qbo/local-kafka';
import { BASE_IMAGE } from './base.js';
import { buildImage, DEPLOYABLES, imageOf } from './build.js';
import {
  devPackagesOf,
  healthProblems,
  imageContentProblems,
  inspectSecretProblems,
  runtimeProblems,
  stopProblems,
} from './checks.js';
import { freePort, GRACE_SECONDS } from './compose.js';
import { docker } from './engine.js';
import { run } from './exec.js';
import { imageFiles, inspect, inspectText, probe, stopTimed, waitHealthy } from './inspect.js';

// Each check, seen failing on a deliberately broken variant of the simulator's container or image (it needs
// neither database nor broker), and passing on the same container run as compose runs it.

const root = repoRoot();
const simulator = DEPLOYABLES.find((d) => d.name === 'qbo-simulator');
if (!simulator) throw new Error('no simulator deployable');
const started: string[] = [];

interface Variant {
  image?: string;
  /** Leave out one of compose's hardening options. */
  without?: 'user' | 'read-only' | 'cap-drop' | 'init';
  env?: Record<string, string>;
  /** The port the healthcheck probes, when not the one the simulator listens on. */
  healthPort?: number;
  /** Start through a shell that stays PID 1 (and so ignores SIGTERM), as a shell-form CMD would. */
  shell?: boolean;
}

async function start(v: Variant = {}): Promise<string> {
  const port = await freePort();
  const hardening = [
    ...(v.without === 'user' ? [] : ['--user', '1000:1000']),
    ...(v.without === 'read-only' ? [] : ['--read-only', '--tmpfs', '/tmp']),
    ...(v.without === 'cap-drop' ? [] : ['--cap-drop', 'ALL']),
    ...(v.without === 'init' ? [] : ['--init']),
    ...['--security-opt', 'no-new-privileges:true'],
  ];
  const health = `fetch('http://127.0.0.1:${v.healthPort ?? port}/').then(()=>process.exit(0),()=>process.exit(1))`;
  const command = `node dist/cli.js --host 127.0.0.1 --port ${port}`;
  const id = (
    await docker([
      'run',
      '-d',
      ...['--network', 'host'],
      ...hardening,
      ...Object.entries(v.env ?? {}).flatMap(([k, value]) => ['-e', `${k}=${value}`]),
      ...['--health-cmd', `node -e "${health}"`, '--health-interval', '1s', '--health-retries', '3'],
      v.image ?? imageOf('qbo-simulator'),
      ...(v.shell ? ['sh', '-c', `${command}; echo exited`] : command.split(' ')),
    ])
  ).trim();
  started.push(id);
  return id;
}

const problemsOf = async (id: string) => runtimeProblems(await inspect(id), await probe(id));
const kinds = (problems: string[]) => [...new Set(problems.map((p) => p.split(':')[0]))].sort();

after(async () => {
  for (const id of started) await run('docker', ['rm', '-f', id]);
});

describe('each hardening check fails on a broken variant', () => {
  it('the simulator run as compose runs it passes every check (the baseline of the variants)', async () => {
    const id = await start();
    assert.deepEqual(healthProblems(await waitHealthy(id, 60_000)), []);
    assert.deepEqual(await problemsOf(id), []);
    const seconds = await stopTimed(id, GRACE_SECONDS);
    assert.deepEqual(stopProblems(await inspect(id), seconds, GRACE_SECONDS), []);
  });

  it('non-root: the Dockerfile without its USER lines, run without compose’s user, runs as root', async () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/^USER .*$/gm, '');
    const image = await buildImage(root, simulator, { tag: 'broken-root', dockerfile });
    const id = await start({ image, without: 'user' });
    await waitHealthy(id, 60_000);
    assert.deepEqual(kinds(await problemsOf(id)), ['non-root']);
  });

  it('read-only root: without --read-only a file can be written', async () => {
    assert.deepEqual(kinds(await problemsOf(await start({ without: 'read-only' }))), ['read-only root']);
  });

  it('capabilities: without --cap-drop ALL the default set stays', async () => {
    assert.deepEqual(kinds(await problemsOf(await start({ without: 'cap-drop' }))), ['capabilities']);
  });

  it('health: a healthcheck that cannot reach the service reports unhealthy', async () => {
    const id = await start({ healthPort: await freePort() });
    assert.deepEqual(kinds(healthProblems(await waitHealthy(id, 60_000))), ['health']);
  });

  it('SIGTERM: a shell as PID 1 (no init, no exec) ignores it until the grace period ends', async () => {
    const id = await start({ without: 'init', shell: true });
    await waitHealthy(id, 60_000);
    const seconds = await stopTimed(id, GRACE_SECONDS);
    const problems = stopProblems(await inspect(id), seconds, GRACE_SECONDS);
    assert.ok(
      problems.some((p) => /exited 137/.test(p)) && problems.some((p) => /grace period/.test(p)),
      problems.join('\n'),
    );
  });

  it('secret in docker inspect: a secret passed in the environment shows', async () => {
    const secret = `broken-variant-${Date.now()}-client-secret`;
    const id = await start({ env: { QBO_SIM_CLIENT_SECRET: secret } });
    const problems = inspectSecretProblems(await inspectText(id), [secret]);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0] ?? '', new RegExp(secret), 'the problem does not print the secret');
  });

  it('image contents: npm, a development dependency, a test file, a source map with a secret, a secret file', async () => {
    const secret = `broken-variant-${Date.now()}-signing-key`;
    const dist = '/app/tools/qbo-simulator/dist';
    const dockerfile = [
      `FROM ${imageOf('qbo-simulator')}`,
      'USER 0',
      `COPY --from=${BASE_IMAGE} /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm`,
      'RUN mkdir -p /app/node_modules/typescript /app/.local \\',
      ` && echo '{"name":"typescript"}' > /app/node_modules/typescript/package.json \\`,
      ` && echo 'test()' > ${dist}/cli.test.js \\`,
      ` && echo '{"version":3,"sources":[],"sourcesContent":["const k = \\"${secret}\\""]}' > ${dist}/cli.js.map \\`,
      ' && echo key > /app/.local/secrets.json',
      'USER 1000:1000',
    ].join('\n');
    // No build context: the Dockerfile alone, from stdin.
    await docker(['build', '--network', 'host', '-t', imageOf('qbo-simulator', 'broken-contents'), '-'], {
      input: dockerfile,
    });
    const devPackages = devPackagesOf(JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')));
    const problems = imageContentProblems(
      await imageFiles(imageOf('qbo-simulator', 'broken-contents')),
      devPackages,
      [secret],
    );
    for (const expected of [
      /^package manager in the image: \/usr\/local\/lib\/node_modules\/npm$/,
      /^development dependency in the image: \/app\/node_modules\/typescript$/,
      /^test file in the image: .*cli\.test\.js$/,
      /^source map embedding sources: .*cli\.js\.map$/,
      /^source map holding a secret: .*cli\.js\.map$/,
      /^secret file in the image: \/app\/\.local\//,
    ])
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} in:\n${problems.join('\n')}`,
      );
  });
});
