import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './service-config.js';

export const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

export type EnvValue = string | number | boolean | null;

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; target?: string; args?: Record<string, string> };
  entrypoint?: string | string[];
  command?: string | string[];
  environment?: Record<string, EnvValue> | string[];
  ports?: (string | number | { published?: string | number; target?: number; host_ip?: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  secrets?: (string | { source: string; target?: string })[];
  user?: string;
  read_only?: boolean;
  tmpfs?: string | string[];
  cap_drop?: string[];
  security_opt?: string[];
  init?: boolean;
  restart?: string;
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

/** Parses a compose file the way Compose reads YAML: `<<` merge keys resolved (the file uses anchors). */
export function parseCompose(text: string): ComposeFile {
  const doc = parse(text, { merge: true }) as ComposeFile | null;
  if (!doc || typeof doc.services !== 'object') throw new Error('no services in the compose file');
  return doc;
}

export const parseYaml = (text: string): unknown => parse(text, { merge: true });

/** A service's environment as strings, from either the map or the `KEY=value` list form. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

export function dependenciesOf(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v.condition ?? 'service_started']));
}

export const secretNamesOf = (service: ComposeService) =>
  (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));

export const buildOf = (service: ComposeService) =>
  typeof service.build === 'string' ? { context: service.build } : service.build;

export interface Workspace {
  /** Folder relative to the root, e.g. `libs/event-bus`. */
  dir: string;
  name: string;
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
}

/** Every npm workspace of the monorepo (libs/*, services/*, tools/*), read from its package.json. */
export function workspaces(): Workspace[] {
  return ['libs', 'services', 'tools'].flatMap((group) =>
    readdirSync(join(repoRoot, group), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => {
        const dir = `${group}/${d.name}`;
        let pkg: { name: string; dependencies?: Record<string, string>; scripts?: Record<string, string> };
        try {
          pkg = JSON.parse(read(`${dir}/package.json`));
        } catch {
          return [];
        }
        return [{ dir, name: pkg.name, dependencies: pkg.dependencies ?? {}, scripts: pkg.scripts ?? {} }];
      }),
  );
}

/** The workspaces a workspace needs at run time: its `dependencies` on other workspaces, followed transitively. */
export function runtimeWorkspaceDeps(all: readonly Workspace[], dir: string): Workspace[] {
  const byName = new Map(all.map((w) => [w.name, w]));
  const start = all.find((w) => w.dir === dir);
  if (!start) throw new Error(`no workspace at ${dir}`);
  const seen = new Map<string, Workspace>();
  const visit = (w: Workspace) => {
    for (const dep of Object.keys(w.dependencies)) {
      const next = byName.get(dep);
      if (!next || seen.has(next.dir)) continue;
      seen.set(next.dir, next);
      visit(next);
    }
  };
  visit(start);
  return [...seen.values()];
}
