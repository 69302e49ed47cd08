import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  checkBaseImages,
  checkDockerignore,
  checkLibsPerDeployable,
  checkStart,
  checkUser,
  parseDockerfile,
} from './compose-dockerfile.js';
import { buildOf, read } from './compose-files.js';
import { APP, all, CONSOLE, compose, SERVICE_WORKDIR, SIMULATOR, someMatch } from './compose-test-kit.js';
import { repoRoot } from './service-config.js';

// The image build, checked offline against the workspaces it packages; each check also fails on a broken copy.

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = parseDockerfile(text);
  const deployables = [
    ...APP.map((service) => ({ service, dir: `services/${service}` })),
    { service: SIMULATOR, dir: 'tools/qbo-simulator' },
    { service: CONSOLE, dir: 'tools/console' },
  ];

  test('each image carries exactly the workspace libraries its package.json needs, transitively', () => {
    assert.deepEqual(checkLibsPerDeployable(stages, all, deployables), []);
    const short = parseDockerfile(
      text.replace(/(AS libs-webhook-ingest\s+ENV LIBS=)"[^"]*"/, '$1"events service-kit"'),
    );
    someMatch(checkLibsPerDeployable(short, all, deployables), /libs-webhook-ingest lacks event-bus/);
  });

  test('the runtime images run as a numeric non-root user', () => {
    assert.deepEqual(
      [...checkUser(stages, 'runtime'), ...checkUser(stages, 'simulator'), ...checkUser(stages, 'console')],
      [],
    );
    const named = parseDockerfile(text.replace(/(AS runtime[\s\S]*?)USER 1000:1000/, '$1USER node'));
    someMatch(checkUser(named, 'runtime'), /USER must be a numeric uid/);
  });

  test("the images start what the packages' start scripts start, without npm", () => {
    const starts = new Set(APP.map((s) => all.find((w) => w.dir === `services/${s}`)?.scripts.start));
    assert.equal(starts.size, 1, `one start script for every service: ${[...starts]}`);
    const [start = ''] = [...starts];
    assert.deepEqual(checkStart(stages, 'runtime', start, SERVICE_WORKDIR), []);
    const simulator = all.find((w) => w.dir === 'tools/qbo-simulator')?.scripts.start ?? '';
    assert.deepEqual(checkStart(stages, 'simulator', simulator, '/app/tools/qbo-simulator'), []);
    const consoleStart = all.find((w) => w.dir === 'tools/console')?.scripts.start ?? '';
    assert.deepEqual(checkStart(stages, 'console', consoleStart, '/app/tools/console'), []);
    const viaNpm = parseDockerfile(
      text.replace(/(AS runtime[\s\S]*?)CMD \[[^\]]*\]/, '$1CMD ["npm", "start"]'),
    );
    someMatch(checkStart(viaNpm, 'runtime', start, SERVICE_WORKDIR), /does not run the start script/);
  });

  test('base images are pinned, and node images are the Node the project pins', () => {
    const node = (JSON.parse(read('package.json')) as { devDependencies: Record<string, string> })
      .devDependencies.node;
    assert.ok(node, 'the root package.json pins node');
    assert.deepEqual(checkBaseImages(stages, node), []);
    const floating = parseDockerfile(
      text.replace('FROM node:26.10.0-slim AS deps', 'FROM node:26-slim AS deps'),
    );
    someMatch(checkBaseImages(floating, node), /FROM node:26-slim: the project pins Node/);
  });

  test('compose builds only targets the Dockerfile has, from workspaces that exist', () => {
    const names = new Set(stages.map((s) => s.name));
    for (const [name, s] of Object.entries(compose.services)) {
      const build = buildOf(s);
      if (!build) continue;
      assert.ok(build.target && names.has(build.target), `${name}: target ${build.target} is a stage`);
      const service = build.args?.SERVICE ?? '';
      const dir = build.args?.WORKSPACE ?? `services/${service}`;
      assert.ok(names.has(`libs-${service}`), `${name}: SERVICE=${service} has a libs- stage`);
      assert.ok(existsSync(join(repoRoot, dir, 'package.json')), `${name}: workspace ${dir} exists`);
    }
  });

  test('.dockerignore keeps host builds, dependencies, local state and .git out of the context', () => {
    const ignore = read('.dockerignore');
    assert.deepEqual(checkDockerignore(ignore), []);
    someMatch(checkDockerignore(ignore.replace(/^\.local$/m, '')), /does not exclude \.local/);
  });
});
