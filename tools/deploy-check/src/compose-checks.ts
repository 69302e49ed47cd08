import { imageTag, SECRET_NAME, urlWithPassword } from './common-rules.js';
import {
  buildOf,
  type ComposeFile,
  type ComposeService,
  dependenciesOf,
  environmentOf,
  secretNamesOf,
} from './compose-files.js';

// Each check returns its problems, one readable line each; an empty list passes. They take parsed input so a
// test can also hand them a broken copy and see them fail.

/** A `service_healthy` dependency waits forever on a service that has no healthcheck. */
export function checkHealthyDependencies(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [dep, condition] of Object.entries(dependenciesOf(service))) {
      const target = compose.services[dep];
      if (!target) {
        problems.push(`${name} depends on ${dep}, which is not a service`);
        continue;
      }
      const hc = target.healthcheck;
      if (condition === 'service_healthy' && (!hc || hc.disable === true || !hc.test)) {
        problems.push(`${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
  }
  return problems;
}

/**
 * Every published port listens on the loopback address only: Redis without a password, the
 * simulator's control API and an anonymous Grafana are for this machine, and Docker's published ports pass
 * host firewalls such as ufw.
 */
export function checkLoopbackPorts(compose: ComposeFile): string[] {
  return Object.entries(compose.services).flatMap(([name, service]) =>
    (service.ports ?? []).flatMap((port) => {
      const loopback =
        typeof port === 'object'
          ? port.host_ip === '127.0.0.1'
          : String(port).startsWith('127.0.0.1:') && String(port).split(':').length === 3;
      return loopback
        ? []
        : [`${name}: port ${JSON.stringify(port)} is published on every address, not 127.0.0.1`];
    }),
  );
}

/** `[ip:]host:container[/proto]` → `host/proto`, or undefined when only a container port is exposed. */
function hostPort(port: NonNullable<ComposeService['ports']>[number]): string | undefined {
  if (typeof port === 'object') return port.published === undefined ? undefined : `${port.published}/tcp`;
  const [spec = '', proto = 'tcp'] = String(port).split('/');
  const parts = spec.split(':');
  return parts.length < 2 ? undefined : `${parts.at(-2)}/${proto}`;
}

/** Two services publishing one host port cannot both start (the bind address is not told apart). */
export function checkUniqueHostPorts(compose: ComposeFile): string[] {
  const owners = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const port of service.ports ?? []) {
      const key = hostPort(port);
      if (!key) continue;
      const owner = owners.get(key);
      if (owner) problems.push(`host port ${key} is published by both ${owner} and ${name}`);
      else owners.set(key, name);
    }
  }
  return problems;
}

const SECRETS_DIR = '/run/secrets/';

function urlOf(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) && value.includes('://') ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * No secret value in the file: a variable named like a secret is a `*_FILE` path to a compose secret the
 * service mounts, which comes from a file in the untracked `.local/` folder. The one exception is a name that
 * only mentions a secret (`TOKEN_SERVICE_URL`, where the token service is) whose value is a URL without
 * credentials. No value anywhere may be a URL with a password in it.
 */
export function checkNoInlineSecrets(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const mounted = new Set(secretNamesOf(service));
    for (const [key, value] of Object.entries(environmentOf(service))) {
      const url = urlOf(value);
      if (urlWithPassword(value))
        problems.push(`${name}: ${key} holds a URL with a password; pass it as a *_FILE secret`);
      if (key.endsWith('_FILE')) {
        const secret = value.startsWith(SECRETS_DIR) ? value.slice(SECRETS_DIR.length) : undefined;
        if (!secret) problems.push(`${name}: ${key} must name a file under ${SECRETS_DIR}`);
        else if (!mounted.has(secret))
          problems.push(`${name}: ${key} names secret ${secret}, not mounted here`);
        else if (!compose.secrets?.[secret])
          problems.push(`${name}: secret ${secret} is not declared at top level`);
        continue;
      }
      if (!SECRET_NAME.test(key)) continue;
      if (url && !url.password && !url.username && (url.protocol === 'http:' || url.protocol === 'https:'))
        continue;
      problems.push(`${name}: ${key} is set inline; a secret must come as ${key}_FILE from a compose secret`);
    }
  }
  for (const [secret, def] of Object.entries(compose.secrets ?? {})) {
    if (!def.file?.startsWith('./.local/')) {
      problems.push(
        `secret ${secret} must come from a file under ./.local/ (untracked), not ${JSON.stringify(def)}`,
      );
    }
  }
  return problems;
}

/** Our own containers: non-root by number, read-only with a tmpfs /tmp, no capabilities, init as PID 1. */
export function checkHardened(compose: ComposeFile, names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of names) {
    const s = compose.services[name];
    if (!s) {
      problems.push(`${name} is not in the compose file`);
      continue;
    }
    const user = /^(\d+):(\d+)$/.exec(s.user ?? '');
    if (!user || user[1] === '0')
      problems.push(`${name}: user must be a numeric non-root uid:gid, not ${s.user}`);
    if (s.read_only !== true) problems.push(`${name}: read_only must be true`);
    const tmpfs = typeof s.tmpfs === 'string' ? [s.tmpfs] : (s.tmpfs ?? []);
    if (!tmpfs.some((t) => t.split(':')[0] === '/tmp')) problems.push(`${name}: needs tmpfs /tmp`);
    if (!(s.cap_drop ?? []).includes('ALL')) problems.push(`${name}: cap_drop must include ALL`);
    if (!(s.security_opt ?? []).some((o) => /^no-new-privileges(:true)?$/.test(o)))
      problems.push(`${name}: security_opt must include no-new-privileges:true`);
    if (s.init !== true) problems.push(`${name}: init must be true`);
    const test = Array.isArray(s.healthcheck?.test) ? s.healthcheck.test : [];
    // A one-shot (restart "no") is waited on to complete, not probed.
    if (s.restart !== 'no' && (test[0] !== 'CMD' || test[1] !== 'node'))
      problems.push(`${name}: healthcheck must run node directly (["CMD","node",...]), not a shell or curl`);
  }
  return problems;
}

/** An app service: built from the Dockerfile's runtime target for itself, probed on its own PORT's /readyz. */
export function checkAppServices(compose: ComposeFile, names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of names) {
    const s = compose.services[name];
    if (!s) continue;
    const build = buildOf(s);
    if (build?.target !== 'runtime' || build.args?.SERVICE !== name)
      problems.push(`${name}: must build target runtime with args.SERVICE=${name}`);
    const port = environmentOf(s).PORT;
    if (!port) problems.push(`${name}: PORT must be set (the healthcheck and ports depend on it)`);
    const test = Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : '';
    if (!test.includes(`http://127.0.0.1:${port}/readyz`))
      problems.push(`${name}: healthcheck must fetch http://127.0.0.1:${port}/readyz`);
    const published = (s.ports ?? []).map((p) => String(p).split(':').at(-1));
    if (!published.includes(port)) problems.push(`${name}: publishes no port mapped to its PORT ${port}`);
    const deps = dependenciesOf(s);
    for (const infra of ['postgres', 'kafka'])
      if (deps[infra] !== 'service_healthy') problems.push(`${name}: must wait for ${infra} to be healthy`);
  }
  return problems;
}

/** `name:tag` or `name@sha256:…`, never `latest` or no tag: what runs must be what was reviewed. */
export function imageProblem(image: string): string | undefined {
  if (image.includes('@sha256:')) return undefined;
  const tag = imageTag(image);
  if (!tag) return `${image} has no tag`;
  if (tag === 'latest' || !/\d/.test(tag)) return `${image} is not pinned to a version`;
  return undefined;
}

export function checkPinnedImages(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(compose.services)) {
    if (s.build) continue;
    if (!s.image) problems.push(`${name}: neither image nor build`);
    else {
      const p = imageProblem(s.image);
      if (p) problems.push(`${name}: ${p}`);
    }
  }
  return problems;
}

interface PrometheusConfig {
  scrape_configs?: { job_name?: string; static_configs?: { targets?: string[] }[] }[];
}

export const scrapeTargets = (config: unknown) =>
  new Set(
    ((config as PrometheusConfig).scrape_configs ?? []).flatMap((job) =>
      (job.static_configs ?? []).flatMap((c) => c.targets ?? []),
    ),
  );

/** Every `service:port` that serves metrics must be a Prometheus target, or its panels stay empty. */
export function checkScrapeTargets(config: unknown, expected: readonly string[]): string[] {
  const targets = scrapeTargets(config);
  return expected.filter((t) => !targets.has(t)).map((t) => `Prometheus does not scrape ${t}`);
}

/** The metrics endpoints compose sets up: each app service's METRICS_PORT. */
export const metricsTargetsOf = (compose: ComposeFile) =>
  Object.entries(compose.services).flatMap(([name, s]) => {
    const port = environmentOf(s).METRICS_PORT;
    return port ? [`${name}:${port}`] : [];
  });
