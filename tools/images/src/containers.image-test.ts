import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brokerAddress, repoRoot } from '@qbo/local-kafka';
import { runDemo } from '@qbo/stack/demo';
import { loadStackSecrets } from '@qbo/stack/secrets';
import { checkStory } from '@qbo/stack/story-check';
import { serverUrl, uniqueName } from '@qbo/testkit';
import pg from 'pg';
import { DEPLOYABLES, imageOf } from './build.js';
import {
  devPackagesOf,
  healthProblems,
  imageContentProblems,
  inspectSecretProblems,
  runtimeProblems,
  stopProblems,
} from './checks.js';
import {
  APP_SERVICES,
  COMPOSE_SERVICES,
  type ComposeRun,
  containerOf,
  down,
  freePort,
  GRACE_SECONDS,
  up,
} from './compose.js';
import { imageFiles, inspect, inspectText, probe, stopTimed, waitHealthy } from './inspect.js';

const root = repoRoot();
const secretValues = (run: ComposeRun) => Object.values(run.secrets).filter((v) => v.length >= 8);

describe('the images, run through compose against the host’s Postgres, Redis and Kafka', () => {
  let run: ComposeRun;
  const containers = new Map<string, string>();

  before(async () => {
    const name = uniqueName('images');
    const id = name.replace(/-/g, '_');
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    await admin.query(`create database "${id}"`);
    await admin.end();
    const url = new URL(serverUrl());
    url.pathname = `/${id}`;
    const dir = join(root, '.local', 'images', id);
    const ports = {
      'token-service': await freePort(),
      'auth-service': await freePort(),
      'sync-service': await freePort(),
      'webhook-ingest': await freePort(),
      simulator: await freePort(),
      // Not run in a container (the console has no image yet); the services' config names its address.
      console: await freePort(),
    };
    const metricsPorts = {
      'token-service': await freePort(),
      'auth-service': await freePort(),
      'sync-service': await freePort(),
      'webhook-ingest': await freePort(),
    };
    run = {
      project: id.replace(/_/g, ''),
      ports,
      metricsPorts,
      secrets: await loadStackSecrets(join(dir, 'stack-secrets.json')),
      databaseUrl: url.toString(),
      brokers: process.env.KAFKA_BROKERS ?? brokerAddress(),
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      topicPrefix: `${name}.`,
      dir,
    };
    await up(run, root);
    for (const service of COMPOSE_SERVICES) containers.set(service, await containerOf(run, root, service));
  });

  after(async () => {
    if (!run) return;
    await down(run, root);
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    await admin.query(`drop database if exists "${run.databaseUrl.split('/').at(-1)}" with (force)`);
    await admin.end();
  });

  it('every container turns healthy by its own healthcheck', async () => {
    for (const service of COMPOSE_SERVICES) {
      const c = await waitHealthy(String(containers.get(service)), 180_000);
      assert.deepEqual(healthProblems(c), [], service);
    }
  });

  it('tells the demo story against the containers, counted at the simulator and on Kafka', async () => {
    const lines: string[] = [];
    const print = (line: string) => {
      lines.push(line);
      process.stdout.write(`${line}\n`);
    };
    // The demo reads the change log under the services' topic prefix.
    process.env.KAFKA_TOPIC_PREFIX = run.topicPrefix;
    // A company of 2,000 records, not the 20,000 of `npm start -- --demo`: this run proves the images
    // tell the story; the stack's own test tells it at full size.
    await runDemo(
      {
        ports: run.ports,
        secrets: run.secrets,
        databaseUrl: run.databaseUrl,
        brokers: run.brokers,
        records: 2_000,
      },
      print,
    );
    await checkStory({
      output: lines.join('\n'),
      database: String(run.databaseUrl.split('/').at(-1)),
      topicPrefix: run.topicPrefix,
      simulatorUrl: `http://127.0.0.1:${run.ports.simulator}`,
    });
  });

  it('every container runs as uid 1000 on a read-only root with no capabilities', async () => {
    for (const service of COMPOSE_SERVICES) {
      const id = String(containers.get(service));
      assert.deepEqual(runtimeProblems(await inspect(id), await probe(id)), [], service);
    }
  });

  it('no secret shows in docker inspect: each arrives as a file', async () => {
    for (const service of COMPOSE_SERVICES) {
      const text = await inspectText(String(containers.get(service)));
      assert.deepEqual(inspectSecretProblems(text, secretValues(run)), [], service);
      assert.match(text, /\/run\/secrets\//, `${service} mounts its secrets as files`);
    }
  });

  it('every image carries no npm, no development dependency, no test or source file, no secret', async () => {
    const devPackages = devPackagesOf(JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')));
    for (const d of DEPLOYABLES) {
      const files = await imageFiles(imageOf(d.name));
      assert.ok(
        files.some(
          (f) => f.path === `/app/${d.workspace}/dist/${d.target === 'runtime' ? 'main' : 'cli'}.js`,
        ),
      );
      assert.deepEqual(imageContentProblems(files, devPackages, secretValues(run)), [], d.name);
    }
  });

  it('each container stops on SIGTERM with exit code 0 within the grace period', async () => {
    // The services first (they hold consumers and connections), then the simulator.
    for (const service of [...APP_SERVICES, 'qbo-simulator'] as const) {
      const id = String(containers.get(service));
      const seconds = await stopTimed(id, GRACE_SECONDS);
      assert.deepEqual(stopProblems(await inspect(id), seconds, GRACE_SECONDS), [], service);
    }
  });
});
