import { imageProblem } from './compose-checks.js';
import { runtimeWorkspaceDeps, type Workspace } from './compose-files.js';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  /** The image or earlier stage it starts from, as written. */
  from: string;
  instructions: Instruction[];
}

/** Stages of a Dockerfile with their instructions; continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ name: m?.[2] ?? String(stages.length), from: m?.[1] ?? '', instructions: [] });
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** A stage's instructions with those of the stages it is built FROM, nearest last. */
export function lineage(stages: readonly Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let current = stages.find((s) => s.name === name);
  while (current && !chain.includes(current)) {
    chain.unshift(current);
    const from = current.from;
    current = stages.find((s) => s.name === from);
  }
  return chain;
}

const instructionsOf = (stages: readonly Stage[], name: string) =>
  lineage(stages, name).flatMap((s) => s.instructions);

/** `ENV LIBS="a b"` / `ENV LIBS=a` → the value. */
function envValue(instructions: readonly Instruction[], key: string): string | undefined {
  let value: string | undefined;
  for (const i of instructions) {
    if (i.op !== 'ENV') continue;
    const m = new RegExp(`(?:^|\\s)${key}=(?:"([^"]*)"|(\\S*))`).exec(i.args);
    if (m) value = m[1] ?? m[2];
  }
  return value;
}

/**
 * The runtime image of each deployable carries the workspace libraries its package.json needs, followed
 * transitively through their package.json files: a missing one is a dangling node_modules symlink and a crash
 * at start; an extra one is dead weight the lists would then drift around.
 */
export function checkLibsPerDeployable(
  stages: readonly Stage[],
  all: readonly Workspace[],
  deployables: readonly { service: string; dir: string }[],
): string[] {
  const problems: string[] = [];
  for (const { service, dir } of deployables) {
    const stage = `libs-${service}`;
    if (!stages.some((s) => s.name === stage)) {
      problems.push(`no stage ${stage} lists the libraries of ${service}`);
      continue;
    }
    const listed = new Set(
      (envValue(instructionsOf(stages, stage), 'LIBS') ?? '').split(/\s+/).filter(Boolean),
    );
    const needed = runtimeWorkspaceDeps(all, dir);
    for (const w of needed) {
      if (!w.dir.startsWith('libs/'))
        problems.push(`${service} needs ${w.name} (${w.dir}), which is not under libs/`);
      else if (!listed.has(w.dir.slice('libs/'.length)))
        problems.push(`${stage} lacks ${w.dir.slice('libs/'.length)}, which ${service} needs (${w.name})`);
    }
    const neededDirs = new Set(needed.map((w) => w.dir));
    for (const lib of listed)
      if (!neededDirs.has(`libs/${lib}`))
        problems.push(`${stage} copies libs/${lib}, which ${service} does not need`);
  }
  return problems;
}

const lastOf = (instructions: readonly Instruction[], op: string) =>
  instructions.filter((i) => i.op === op).at(-1)?.args;

/** Runs as a numeric non-root user (a name cannot be proven non-root by the kubelet or by compose). */
export function checkUser(stages: readonly Stage[], stage: string): string[] {
  const user = lastOf(instructionsOf(stages, stage), 'USER');
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  if (!m) return [`${stage}: USER must be a numeric uid[:gid], not ${user ?? '(none: root)'}`];
  return m[1] === '0' ? [`${stage}: USER is root`] : [];
}

const execForm = (args: string | undefined): string[] | undefined => {
  try {
    const parsed: unknown = JSON.parse(args ?? '');
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The image starts the service the way its package.json `start` script does, with `node` itself as the
 * process (exec form, no npm, no shell), from the workspace folder the script's relative paths assume.
 */
export function checkStart(
  stages: readonly Stage[],
  stage: string,
  start: string,
  workdir: string,
): string[] {
  const problems: string[] = [];
  const instructions = instructionsOf(stages, stage);
  const cmd = execForm(lastOf(instructions, 'CMD'));
  const expected = start.trim().split(/\s+/);
  if (!cmd) problems.push(`${stage}: CMD must be an exec-form JSON array`);
  else if (JSON.stringify(cmd.slice(0, expected.length)) !== JSON.stringify(expected))
    problems.push(`${stage}: CMD ${JSON.stringify(cmd)} does not run the start script "${start}"`);
  const entrypoint = lastOf(instructions, 'ENTRYPOINT');
  if (entrypoint && entrypoint !== '[]') problems.push(`${stage}: ENTRYPOINT ${entrypoint} wraps the start`);
  if (lastOf(instructions, 'WORKDIR') !== workdir)
    problems.push(`${stage}: WORKDIR must be ${workdir}, where the start script's paths point`);
  if (envValue(instructions, 'NODE_ENV') !== 'production')
    problems.push(`${stage}: NODE_ENV must be production`);
  const removesNpm = instructions.some(
    (i) => i.op === 'RUN' && /\brm\b.*\/usr\/local\/bin\/npm\b/.test(i.args),
  );
  if (!removesNpm) problems.push(`${stage}: npm must be removed from the runtime image`);
  return problems;
}

/** Every external base image is pinned, and node images run the Node the project pins. */
export function checkBaseImages(stages: readonly Stage[], nodeVersion: string): string[] {
  const names = new Set(stages.map((s) => s.name));
  return stages.flatMap((s) => {
    if (names.has(s.from) || s.from.includes('$')) return [];
    const problem = imageProblem(s.from);
    if (problem) return [`FROM ${s.from}: ${problem}`];
    if (/^(docker\.io\/)?(library\/)?node:/.test(s.from) && !s.from.startsWith(`node:${nodeVersion}`))
      return [`FROM ${s.from}: the project pins Node ${nodeVersion}`];
    return [];
  });
}

/** The build context must not carry host builds, dependencies, local state or VCS data into the image. */
export function checkDockerignore(text: string): string[] {
  const patterns = new Set(text.split('\n').map((l) => l.trim().replace(/^\*\*\//, '')));
  return ['node_modules', 'dist', '.local', '.git']
    .filter((p) => !patterns.has(p))
    .map((p) => `.dockerignore does not exclude ${p}`);
}

/** The environment a stage's image sets (`ENV K=V`, as the runtime sees it before compose adds its own). */
export function stageEnv(stages: readonly Stage[], stage: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of instructionsOf(stages, stage)) {
    if (i.op !== 'ENV') continue;
    for (const m of i.args.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)) env[m[1] ?? ''] = m[2] ?? m[3] ?? '';
  }
  return env;
}
