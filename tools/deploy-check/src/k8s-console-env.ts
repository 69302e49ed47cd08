import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configMapByName, type Deployment, podSpecOf, services } from './k8s-objects.js';
import type { K8sObject } from './k8s-render.js';
import { ref } from './k8s-render.js';
import { resolveEnv, type ServiceEnv } from './k8s-service-env.js';
import { repoRoot } from './service-config.js';

/** The operator console's Deployment: a tool (tools/console) with no config schema of its own. */
export const CONSOLE = 'console';

/** The variables the console's process reads (tools/console/src/main.ts says which), and NODE_OPTIONS. */
export function consoleVariables(): Set<string> {
  const main = readFileSync(join(repoRoot, 'tools', 'console', 'src', 'main.ts'), 'utf8');
  const read = [...main.matchAll(/env(?:\.|\[')([A-Z_]+)/g), ...main.matchAll(/required\('([A-Z_]+)'\)/g)];
  return new Set([...read.map((m) => String(m[1])), 'NODE_OPTIONS']);
}

/**
 * The console's environment as the kubelet builds it: only variables it reads; it listens on the pod's
 * address and the container's port; each API it forwards to is a Service rendered here, by its in-cluster
 * name; and no secret reaches it in any form.
 */
export function checkConsoleEnv(d: Deployment, objects: readonly K8sObject[]): ServiceEnv {
  const where = ref(d);
  const problems: string[] = [];
  const spec = podSpecOf(d);
  const container = spec.containers[0];
  if (!container || spec.containers.length !== 1)
    return { service: CONSOLE, problems: [`${where}: expected one container`] };
  const env = resolveEnv(container, configMapByName(objects), where, problems);
  const known = consoleVariables();
  for (const name of Object.keys(env))
    if (!known.has(name)) problems.push(`${where}: sets ${name}, which the console does not read`);
  if (env.HOST !== '0.0.0.0') problems.push(`${where}: HOST must be 0.0.0.0 to be reached in the pod`);
  if (!(container.ports ?? []).some((p) => String(p.containerPort) === env.PORT))
    problems.push(`${where}: PORT ${env.PORT} is not a container port`);
  const rendered = new Set(services(objects).map((s) => s.metadata.name));
  for (const [name, target] of [
    ['SYNC_SERVICE_URL', 'sync-service'],
    ['AUTH_SERVICE_URL', 'auth-service'],
  ] as const) {
    const value = env[name];
    if (!value) {
      problems.push(`${where}: ${name} is not set`);
      continue;
    }
    const host = URL.canParse(value) ? new URL(value).hostname : '';
    if (host !== target || !rendered.has(target))
      problems.push(`${where}: ${name} must name the ${target} Service rendered here, not ${value}`);
  }
  if ((spec.volumes ?? []).some((v) => v.secret) || (container.envFrom ?? []).some((f) => f.secretRef))
    problems.push(`${where}: the console holds no secret, yet one is mounted`);
  return { service: CONSOLE, problems };
}
