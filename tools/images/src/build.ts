import { docker } from './engine.js';

export type DeployableName =
  | 'auth-service'
  | 'token-service'
  | 'sync-service'
  | 'webhook-ingest'
  | 'qbo-simulator';

export interface Deployable {
  name: DeployableName;
  /** The Dockerfile stage. */
  target: 'runtime' | 'simulator';
  workspace: string;
}

/** Every deployable of the repository: the four services and the simulator (the compose stack's Intuit). */
export const DEPLOYABLES: readonly Deployable[] = [
  { name: 'token-service', target: 'runtime', workspace: 'services/token-service' },
  { name: 'auth-service', target: 'runtime', workspace: 'services/auth-service' },
  { name: 'sync-service', target: 'runtime', workspace: 'services/sync-service' },
  { name: 'webhook-ingest', target: 'runtime', workspace: 'services/webhook-ingest' },
  { name: 'qbo-simulator', target: 'simulator', workspace: 'tools/qbo-simulator' },
];

/** The tag compose gives each image (docker-compose.yml's `image:`). */
export const imageOf = (name: DeployableName, tag = 'local') => `qbo/${name}:${tag}`;

/**
 * One `docker build` of the project's Dockerfile, or of a variant given as text, with the classic builder on
 * the host's network (the engine here has no bridge). Builds run one at a time: they share the layer cache.
 */
export async function buildImage(
  root: string,
  d: Deployable,
  {
    tag = 'local',
    dockerfile,
    log,
  }: { tag?: string; dockerfile?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const image = imageOf(d.name, tag);
  const started = Date.now();
  await docker(
    [
      'build',
      '--network',
      'host',
      ...['--target', d.target],
      ...['--build-arg', `SERVICE=${d.name}`, '--build-arg', `WORKSPACE=${d.workspace}`],
      ...['-f', dockerfile === undefined ? 'Dockerfile' : '-'],
      ...['-t', image],
      '.',
    ],
    { cwd: root, ...(dockerfile === undefined ? {} : { input: dockerfile }) },
  );
  log?.(`built ${image} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return image;
}
