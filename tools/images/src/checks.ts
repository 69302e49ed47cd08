// The hardening checks, as pure functions of what the engine reports about a container or an image, so each
// can be seen failing on fixtures as well as on broken containers. Each returns its problems; none means it held.

/** What `docker inspect` says of a container, as far as the checks read it. */
export interface ContainerInspect {
  Name: string;
  Config: { User?: string; Env?: string[] | null; Cmd?: string[] | null; Image?: string };
  HostConfig: {
    ReadonlyRootfs?: boolean;
    CapDrop?: string[] | null;
    CapAdd?: string[] | null;
    Privileged?: boolean;
    SecurityOpt?: string[] | null;
  };
  State: { Status: string; ExitCode: number; Health?: { Status: string; Log?: { Output: string }[] } };
}

/** What the running container itself says: read inside it with `docker exec`. */
export interface ContainerProbe {
  /** `id -u` and `id -g` of a process started in the container (as its main process is). */
  uid: string;
  gid: string;
  /** The capability sets of PID 1, from /proc/1/status (hex). */
  capEff: string;
  capBnd: string;
  /** Whether creating a file outside the tmpfs succeeded. */
  rootWritable: boolean;
}

const zero = (hex: string) => /^0+$/.test(hex.trim());

/** Non-root, read-only root file system, no capabilities: the configuration and the container agree. */
export function runtimeProblems(c: ContainerInspect, p: ContainerProbe): string[] {
  const problems: string[] = [];
  const [user = '', group = ''] = (c.Config.User ?? '').split(':');
  if (user === '' || user === '0' || user === 'root')
    problems.push(`non-root: the container runs as user "${c.Config.User ?? ''}"`);
  if (p.uid.trim() !== '1000' || p.gid.trim() !== '1000')
    problems.push(`non-root: processes run as uid ${p.uid.trim()} gid ${p.gid.trim()}, not 1000:1000`);
  if (group === '0') problems.push('non-root: the container runs in group 0');
  if (c.HostConfig.ReadonlyRootfs !== true) problems.push('read-only root: ReadonlyRootfs is not set');
  if (p.rootWritable) problems.push('read-only root: a file could be created outside /tmp');
  const dropped = (c.HostConfig.CapDrop ?? []).map((x) => x.toUpperCase());
  if (!dropped.includes('ALL'))
    problems.push(`capabilities: not all dropped (CapDrop ${JSON.stringify(dropped)})`);
  if ((c.HostConfig.CapAdd ?? []).length > 0)
    problems.push(`capabilities: added back ${JSON.stringify(c.HostConfig.CapAdd)}`);
  if (c.HostConfig.Privileged) problems.push('capabilities: the container is privileged');
  if (!zero(p.capEff) || !zero(p.capBnd))
    problems.push(`capabilities: PID 1 holds CapEff ${p.capEff.trim()} CapBnd ${p.capBnd.trim()}`);
  if (!(c.HostConfig.SecurityOpt ?? []).some((o) => /^no-new-privileges(:true)?$/.test(o)))
    problems.push('capabilities: no-new-privileges is not set');
  return problems;
}

/** Parses the capability lines of a /proc/<pid>/status. */
export function capabilities(status: string): { capEff: string; capBnd: string } {
  const field = (name: string) => new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? 'unknown';
  return { capEff: field('CapEff'), capBnd: field('CapBnd') };
}

/** Healthy, as the engine's own healthcheck reports it. */
export function healthProblems(c: ContainerInspect): string[] {
  const health = c.State.Health;
  if (!health) return [`health: ${c.Name} has no healthcheck`];
  if (health.Status === 'healthy') return [];
  const last = health.Log?.at(-1)?.Output.trim().slice(0, 200) ?? '';
  return [`health: ${c.Name} is ${health.Status} (${c.State.Status})${last ? `: ${last}` : ''}`];
}

/** After SIGTERM: stopped by itself, exit code 0, before the grace period ran out (then SIGKILL: 137). */
export function stopProblems(c: ContainerInspect, seconds: number, graceSeconds: number): string[] {
  const problems: string[] = [];
  if (c.State.Status !== 'exited') problems.push(`SIGTERM: ${c.Name} is ${c.State.Status}, not exited`);
  if (c.State.ExitCode !== 0) problems.push(`SIGTERM: ${c.Name} exited ${c.State.ExitCode}, not 0`);
  if (seconds >= graceSeconds)
    problems.push(
      `SIGTERM: ${c.Name} took ${seconds.toFixed(1)} s, the whole ${graceSeconds} s grace period`,
    );
  return problems;
}

/**
 * No secret in what `docker inspect` shows anyone who may ask the engine: the environment, the command, the
 * labels. Secrets arrive as files; only their paths may show.
 */
export function inspectSecretProblems(inspectText: string, secrets: readonly string[]): string[] {
  return secrets
    .filter((s) => s.length >= 8 && inspectText.includes(s))
    .map((s) => `secret in docker inspect: a value starting ${s.slice(0, 3)}… appears`);
}

/** One file of an image, as read from its exported file system. */
export interface ImageFile {
  /** Absolute path inside the image. */
  path: string;
  /** The text of the file, for the few files read (source maps); otherwise undefined. */
  text?: string;
}

const PACKAGE_MANAGERS = [
  '/usr/local/lib/node_modules/npm',
  '/usr/local/lib/node_modules/corepack',
  '/usr/local/bin/npm',
  '/usr/local/bin/npx',
  '/usr/local/bin/corepack',
  '/usr/local/bin/yarn',
];

/**
 * What an image may not carry: a package manager, a development dependency (any `node_modules/...` entry the
 * lockfile marks `dev`), our tests or sources, a secret file, or a source map that embeds sources or a secret.
 * `devPackages` are lockfile paths (`node_modules/typescript`), found under /app.
 */
export function imageContentProblems(
  files: readonly ImageFile[],
  devPackages: ReadonlySet<string>,
  secrets: readonly string[],
): string[] {
  const problems = new Set<string>();
  const paths = new Set(files.map((f) => f.path));
  for (const pm of PACKAGE_MANAGERS) if (paths.has(pm)) problems.add(`package manager in the image: ${pm}`);
  for (const { path, text } of files) {
    if (!path.startsWith('/app/')) continue;
    const inApp = path.slice('/app/'.length);
    const pkg = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(inApp)?.[1];
    if (pkg && devPackages.has(pkg)) problems.add(`development dependency in the image: /app/${pkg}`);
    const ours = !inApp.includes('node_modules/');
    if (ours && /\.test\.(js|d\.ts|js\.map|ts)$/.test(inApp)) problems.add(`test file in the image: ${path}`);
    if (ours && /^(libs|services|tools)\/[^/]+\/src\//.test(inApp))
      problems.add(`source file in the image: ${path}`);
    if (/(^|\/)(\.local|\.env|compose-secrets)(\/|$)|\.(pem|key)$/.test(inApp))
      problems.add(`secret file in the image: ${path}`);
    if (ours && path.endsWith('.map') && text !== undefined) {
      if (/"sourcesContent"\s*:/.test(text)) problems.add(`source map embedding sources: ${path}`);
      if (secrets.some((s) => s.length >= 8 && text.includes(s)))
        problems.add(`source map holding a secret: ${path}`);
    }
  }
  return [...problems];
}

/** The lockfile's development-only package paths. */
export function devPackagesOf(lock: { packages: Record<string, { dev?: boolean }> }): Set<string> {
  return new Set(
    Object.entries(lock.packages)
      .filter(([path, entry]) => path.includes('node_modules/') && entry.dev === true)
      .map(([path]) => path),
  );
}
