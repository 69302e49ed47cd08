import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { urlWithPassword } from './common-rules.js';
import { parseDockerfile, stageEnv } from './compose-dockerfile.js';
import { read } from './compose-files.js';
import { CONSOLE, checkConsoleEnv } from './k8s-console-env.js';
import {
  type Container,
  configMapByName,
  type Deployment,
  deployments,
  podSpecOf,
  scaledObjects,
} from './k8s-objects.js';
import { NOT_SECRET } from './k8s-policy.js';
import { type K8sObject, ref } from './k8s-render.js';
import { SAMPLE_SECRETS } from './k8s-samples.js';
import {
  loadConfigSchema,
  loadServiceKit,
  parseWith,
  repoRoot,
  runtimeVariables,
  type ServiceKit,
  unreadVariables,
  variableOf,
} from './service-config.js';

export interface ServiceEnv {
  service: string;
  problems: string[];
  /** The parsed config, when the parse succeeded. */
  config?: Readonly<Record<string, unknown>>;
}

/**
 * Checks one Deployment's environment against its service's config, two ways:
 * - declared: every variable it sets (ConfigMap keys included; `NAME_FILE` counts as `NAME`) is one the
 *   service's schema names, or one the runtime reads; a typo or a stale variable is silently ignored otherwise;
 * - complete and valid: the service's own `parseConfig` accepts the rendered environment, with sample files in
 *   place of the mounted secrets, so every required variable is there and every value has the right form.
 * Then what only the parsed config can tell: secret-typed values arrive through files, the server listens on the
 * pod's address and the ports the manifests name, and the grace period outlasts the service's shutdown deadline.
 */
export async function checkServiceEnv(
  d: Deployment,
  objects: readonly K8sObject[],
  kit: ServiceKit,
  runtime: ReadonlySet<string>,
  /** What the image itself sets (the Dockerfile's runtime `ENV`), beneath whatever the Deployment sets. */
  imageEnv: Readonly<Record<string, string>>,
): Promise<ServiceEnv> {
  const service = d.metadata.name;
  const where = ref(d);
  if (!existsSync(join(repoRoot, 'services', service, 'package.json'))) {
    return { service, problems: [`${where}: no service named ${service} in services/`] };
  }
  const schema = await loadConfigSchema(service);
  const declared = new Set(Object.keys(schema.shape));
  const spec = podSpecOf(d);
  const container = spec.containers[0];
  if (!container || spec.containers.length !== 1)
    return { service, problems: [`${where}: expected one container`] };

  const problems: string[] = [];
  const env = resolveEnv(container, configMapByName(objects), where, problems);

  for (const name of unreadVariables(Object.keys(env), declared, runtime)) {
    problems.push(`${where}: sets ${name}, which ${service}'s config does not declare`);
  }
  // Prometheus scrapes METRICS_PORT; an OTLP endpoint covering metrics too would send every point twice.
  if (env.METRICS_PORT && (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)) {
    problems.push(
      `${where}: metrics both scraped on METRICS_PORT and pushed over OTLP; set only the traces endpoint`,
    );
  }
  for (const name of Object.keys(env)) {
    if (!name.endsWith('_FILE') && urlWithPassword(env[name] ?? '')) {
      problems.push(`${where}: ${name} is a URL with a password in plain sight; mount it as a file`);
    }
  }

  const dir = mkdtempSync(join(tmpdir(), `k8s-env-${service}-`));
  try {
    const raw: Record<string, string> = { ...imageEnv, ...env };
    const fromFile = new Set<string>();
    for (const [name, path] of Object.entries(env)) {
      const base = variableOf(name);
      if (!name.endsWith('_FILE') || !declared.has(base)) continue;
      const key = secretKeyAt(container, spec, path);
      if (key === undefined) {
        problems.push(`${where}: ${name} names ${path}, which no secret volume provides`);
        continue;
      }
      const sample = SAMPLE_SECRETS[key];
      if (sample === undefined) {
        problems.push(`${where}: no sample value for secret key ${key} (k8s-samples.ts)`);
        continue;
      }
      const file = join(dir, key);
      writeFileSync(file, `${sample}\n`);
      raw[name] = file;
      fromFile.add(base);
    }

    const { config, problems: refused } = parseWith(kit, schema, raw);
    if (!config)
      return { service, problems: [...problems, ...refused.map((p) => `${where}: config refused: ${p}`)] };

    const isSecret = (v: unknown) =>
      v instanceof kit.Secret || (Array.isArray(v) && v.some((item) => item instanceof kit.Secret));
    for (const [name, value] of Object.entries(config)) {
      if (isSecret(value) && !fromFile.has(name)) {
        problems.push(`${where}: ${name} is a secret but comes from the environment, not a mounted file`);
      }
      if (NOT_SECRET.has(name) && isSecret(value)) {
        problems.push(
          `${where}: ${name} is exempt from the ConfigMap secret rule but is a secret in ${service}`,
        );
      }
    }
    problems.push(
      ...wiringProblems(d, config),
      ...scalerProblems(d, objects, config),
      ...connectFlowProblems(d, config),
    );
    return { service, problems, config };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The container's environment as the kubelet builds it: envFrom first, then env on top. */
export function resolveEnv(
  container: Container,
  maps: ReturnType<typeof configMapByName>,
  where: string,
  problems: string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) continue;
    const map = maps.get(from.configMapRef.name ?? '');
    if (!map)
      problems.push(`${where}: envFrom names ConfigMap ${from.configMapRef.name}, which is not rendered`);
    for (const [k, v] of Object.entries(map?.data ?? {})) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      const value = maps.get(name ?? '')?.data?.[key];
      if (value === undefined)
        problems.push(`${where}: ${e.name} reads ConfigMap ${name} key ${key}, which is not rendered`);
      else env[e.name] = value;
    } else {
      problems.push(`${where}: ${e.name} has no value this check can resolve`);
    }
  }
  return env;
}

/** The Secret key a path inside a read-only secret volume mount stands for. */
function secretKeyAt(
  container: { volumeMounts?: Array<{ name: string; mountPath: string }> },
  spec: ReturnType<typeof podSpecOf>,
  path: string,
): string | undefined {
  for (const mount of container.volumeMounts ?? []) {
    const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.secret || !path.startsWith(`${mount.mountPath}/`)) continue;
    const key = path.slice(mount.mountPath.length + 1);
    const item = volume.secret.items?.find((i) => i.path === key);
    return item ? item.key : key;
  }
  return undefined;
}

/**
 * auth-service's connect flow as deployed: PKCE on (Intuit must ignore it if it does not honour it, RFC 6749
 * §3.1), and the ingress controller in front named as a trusted proxy, or every browser would count as that
 * one proxy in the rate limits.
 */
function connectFlowProblems(d: Deployment, config: Readonly<Record<string, unknown>>): string[] {
  if (d.metadata.name !== 'auth-service') return [];
  const where = ref(d);
  const problems: string[] = [];
  if (config.QBO_PKCE !== true) problems.push(`${where}: QBO_PKCE is off; the connect flow sends PKCE`);
  if (!Array.isArray(config.TRUSTED_PROXY_CIDRS) || config.TRUSTED_PROXY_CIDRS.length === 0) {
    problems.push(
      `${where}: TRUSTED_PROXY_CIDRS is empty behind the ingress controller; every client would be the proxy`,
    );
  }
  return problems;
}

/** The parsed config against the manifests around it. */
function wiringProblems(d: Deployment, config: Readonly<Record<string, unknown>>): string[] {
  const where = ref(d);
  const spec = podSpecOf(d);
  const container = spec.containers[0];
  const problems: string[] = [];
  // The default 127.0.0.1 would answer neither the probes nor the Service.
  if (config.HOST !== '0.0.0.0' && config.HOST !== '::')
    problems.push(`${where}: HOST is ${String(config.HOST)}, not all addresses`);
  const portNamed = (name: string) => container?.ports?.find((p) => p.name === name)?.containerPort;
  if (config.PORT !== portNamed('http')) {
    problems.push(
      `${where}: the service listens on ${String(config.PORT)} but the http port is ${portNamed('http')}`,
    );
  }
  if (portNamed('metrics') !== undefined && config.METRICS_PORT !== portNamed('metrics')) {
    problems.push(
      `${where}: METRICS_PORT is ${String(config.METRICS_PORT)} but the metrics port is ${portNamed('metrics')}`,
    );
  }
  const scrapePort = d.spec?.template.metadata?.annotations?.['prometheus.io/port'];
  if (scrapePort !== undefined && scrapePort !== String(config.METRICS_PORT)) {
    problems.push(
      `${where}: Prometheus is told to scrape ${scrapePort}, but METRICS_PORT is ${String(config.METRICS_PORT)}`,
    );
  }
  const preStop = container?.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  const shutdown = Number(config.SHUTDOWN_TIMEOUT_MS) / 1000;
  if (grace <= preStop + shutdown) {
    problems.push(
      `${where}: grace period ${grace} s does not outlast preStop ${preStop} s + shutdown ${shutdown} s`,
    );
  }
  return problems;
}

/** Partitions per topic the services create when their config does not say (libs/event-bus). */
const DEFAULT_PARTITIONS = 12;

/** A KEDA Kafka trigger must watch the brokers the service uses, and never ask for more consumers than partitions. */
function scalerProblems(
  d: Deployment,
  objects: readonly K8sObject[],
  config: Readonly<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  const brokers = Array.isArray(config.KAFKA_BROKERS) ? config.KAFKA_BROKERS.join(',') : '';
  const partitions = Number(config.KAFKA_TOPIC_PARTITIONS ?? DEFAULT_PARTITIONS);
  for (const so of scaledObjects(objects).filter((s) => s.spec.scaleTargetRef.name === d.metadata.name)) {
    const where = ref(so);
    if ((so.spec.maxReplicaCount ?? 100) > partitions) {
      problems.push(
        `${where}: maxReplicaCount ${so.spec.maxReplicaCount ?? 100} exceeds ${partitions} partitions`,
      );
    }
    for (const trigger of so.spec.triggers.filter((t) => t.type === 'kafka')) {
      const watched = (trigger.metadata.bootstrapServers ?? '')
        .split(',')
        .map((s: string) => s.trim())
        .join(',');
      if (watched !== brokers) problems.push(`${where}: watches ${watched}, but the service uses ${brokers}`);
    }
  }
  return problems;
}

/** Every Deployment of the render, checked in turn. */
export async function checkAllServiceEnvs(objects: readonly K8sObject[]): Promise<ServiceEnv[]> {
  const kit = await loadServiceKit();
  const runtime = runtimeVariables();
  const imageEnv = stageEnv(parseDockerfile(read('Dockerfile')), 'runtime');
  const results: ServiceEnv[] = [];
  for (const d of deployments(objects))
    results.push(
      d.metadata.name === CONSOLE
        ? checkConsoleEnv(d, objects)
        : await checkServiceEnv(d, objects, kit, runtime, imageEnv),
    );
  return results;
}
