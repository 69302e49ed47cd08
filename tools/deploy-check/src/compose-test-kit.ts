import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { makeSecrets } from './compose-env.js';
import { type ComposeFile, environmentOf, parseCompose, read, workspaces } from './compose-files.js';
import { repoRoot } from './service-config.js';

// What the compose and Dockerfile tests share: the parsed compose file, broken copies of it, and the names of
// what the repository deploys.

export const compose = parseCompose(read('docker-compose.yml'));
export const broken = (change: (c: ComposeFile) => void): ComposeFile => {
  const copy = structuredClone(compose);
  change(copy);
  return copy;
};
export const serviceOf = (c: ComposeFile, name: string) => {
  const s = c.services[name];
  assert.ok(s, `${name} is in the compose file`);
  return s;
};
export const envOf = (c: ComposeFile, name: string) => {
  const s = serviceOf(c, name);
  const env = environmentOf(s);
  s.environment = env;
  return env;
};
export const someMatch = (problems: string[], pattern: RegExp) =>
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern}, got ${JSON.stringify(problems)}`,
  );

/** The deployable services: every folder under services/. */
export const APP = readdirSync(join(repoRoot, 'services')).filter((d) =>
  existsSync(join(repoRoot, 'services', d, 'package.json')),
);
export const SIMULATOR = 'qbo-simulator';
/** The operator console (tools/console): an image and a compose entry of its own. */
export const CONSOLE = 'console';
/** The one-shot that creates the topics and ACLs as the Kafka admin. */
export const KAFKA_SETUP = 'kafka-setup';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's WORKDIR, with its ARG, as written there
export const SERVICE_WORKDIR = '/app/services/${SERVICE}';
export const all = workspaces();

/** Secrets from the project's script in a temporary folder, removed after the run. */
export const freshSecrets = () => {
  const dir = makeSecrets(repoRoot);
  after(() => rmSync(dirname(dir), { recursive: true, force: true }));
  return dir;
};
