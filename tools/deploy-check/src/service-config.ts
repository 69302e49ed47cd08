// The services' own configuration code, loaded from the workspace build, so a deployment file is checked
// against exactly what a service accepts at start rather than against a copy of its variable list.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** What the checks use of libs/service-kit. */
export interface ServiceKit {
  parseConfig(
    schema: ConfigSchema,
    env: Record<string, string | undefined>,
  ): Readonly<Record<string, unknown>>;
  ConfigError: new (...args: never[]) => Error & { problems: readonly string[] };
  Secret: abstract new (...args: never[]) => object;
}

/** A service's zod object schema: its `shape` names every variable the service reads. */
export interface ConfigSchema {
  shape: Record<string, unknown>;
}

const importBuilt = async <T>(path: string): Promise<T> => {
  const file = join(repoRoot, path);
  if (!existsSync(file)) throw new Error(`${path} is missing: build the workspace first (npx tsc -b)`);
  return (await import(pathToFileURL(file).href)) as T;
};

export const loadServiceKit = () => importBuilt<ServiceKit>('libs/service-kit/dist/index.js');

export async function loadConfigSchema(service: string): Promise<ConfigSchema> {
  const module = await importBuilt<{ configSchema?: ConfigSchema }>(`services/${service}/dist/config.js`);
  if (!module.configSchema?.shape)
    throw new Error(`services/${service}/dist/config.js exports no configSchema`);
  return module.configSchema;
}

/** The schema of event-bus's one-shot cluster setup (compose's `kafka-setup`). */
export async function loadKafkaSetupSchema(): Promise<ConfigSchema> {
  const module = await importBuilt<{ kafkaSetupEnvSchema?: ConfigSchema }>('libs/event-bus/dist/setup.js');
  if (!module.kafkaSetupEnvSchema?.shape)
    throw new Error('libs/event-bus/dist/setup.js exports no kafkaSetupEnvSchema');
  return module.kafkaSetupEnvSchema;
}

/**
 * Variables read outside the config schema: by Node itself, by the service kit's telemetry (read from its
 * build, so a variable it stops reading stops being accepted) and by the OpenTelemetry SDK's resource detector.
 */
export function runtimeVariables(): Set<string> {
  const telemetry = readFileSync(join(repoRoot, 'libs/service-kit/dist/telemetry.js'), 'utf8');
  const read = [...telemetry.matchAll(/\benv\.(OTEL_[A-Z_]+)/g)].map((m) => m[1] as string);
  return new Set(['NODE_OPTIONS', 'OTEL_RESOURCE_ATTRIBUTES', ...read]);
}

/** The variable a name sets: `NAME_FILE` supplies `NAME`. */
export const variableOf = (name: string) => (name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name);

/**
 * Names among `names` that nothing reads: neither the service's config (directly or as `NAME_FILE`) nor the
 * runtime. Such a variable is a typo or a leftover, which would otherwise do nothing, silently.
 */
export const unreadVariables = (
  names: Iterable<string>,
  declared: ReadonlySet<string>,
  runtime: ReadonlySet<string>,
): string[] => [...names].filter((name) => !declared.has(variableOf(name)) && !runtime.has(name));

/** Runs the service's own config parse: the parsed config, or the problems its ConfigError lists by variable. */
export function parseWith(
  kit: ServiceKit,
  schema: ConfigSchema,
  env: Record<string, string | undefined>,
): { config: Readonly<Record<string, unknown>>; problems: [] } | { config?: undefined; problems: string[] } {
  try {
    return { config: kit.parseConfig(schema, env), problems: [] };
  } catch (err) {
    if (!(err instanceof kit.ConfigError)) throw err;
    return { problems: [...err.problems] };
  }
}
