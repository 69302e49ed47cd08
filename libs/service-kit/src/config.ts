import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Secret } from './secret.js';

/** Every problem with the environment at once, by variable name; values are never repeated back. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `NAME_FILE=/path` supplies `NAME` from a mounted file (Kubernetes Secret volumes), so secrets need not sit
 * in the process environment. A variable set both ways is ambiguous and rejected.
 */
function withFileSecrets(
  env: Env,
  names: readonly string[],
): { env: Record<string, string | undefined>; problems: string[] } {
  const resolved: Record<string, string | undefined> = { ...env };
  const problems: string[] = [];
  for (const name of names) {
    const key = `${name}_FILE`;
    const path = env[key];
    if (path === undefined || path === '') continue;
    if (env[name] !== undefined) {
      problems.push(`${name}: set both directly and through ${key}; set only one`);
      continue;
    }
    try {
      resolved[name] = readFileSync(path, 'utf8').trim();
    } catch {
      problems.push(`${key}: cannot read the file it names`);
    }
  }
  return { env: resolved, problems };
}

/** Parses the environment against a zod object schema and returns a frozen config, or throws ConfigError. */
export function parseConfig<S extends z.ZodObject>(schema: S, rawEnv: Env): Readonly<z.output<S>> {
  const { env, problems } = withFileSecrets(rawEnv, Object.keys(schema.shape));
  // An empty variable is treated as unset, so `FOO=` in an env file falls back to the default or is reported.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? '(environment)');
      problems.push(`${name}: ${cleaned[name] === undefined ? 'is required' : issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return Object.freeze(result.data);
}

/** Field builders shared by the services' config schemas. */
export const env = {
  secret: () =>
    z
      .string()
      .min(16, 'must be at least 16 characters')
      .transform((v) => new Secret(v)),
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  list: () =>
    z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  postgresUrl: () => z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }),
  hostPortList: () =>
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      )
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be a comma-separated list of host:port'))
          .min(1, 'must name at least one host:port'),
      ),
} as const;

/**
 * The variables of the Kafka connection's security, part of every service's config. TLS is on with
 * `KAFKA_SSL=true`, verifying the broker against the system's CAs or `KAFKA_SSL_CA`; mutual TLS adds a client
 * certificate and key. Each PEM usually comes from a mounted file: `KAFKA_SSL_CA_FILE`, `KAFKA_SSL_CERT_FILE`,
 * `KAFKA_SSL_KEY_FILE`. SASL authenticates with a mechanism, a user name and a password
 * (`KAFKA_SASL_PASSWORD_FILE`). How they fit together is checked by `kafkaSecurity` at start-up.
 */
export const kafkaSecurityEnvShape = {
  KAFKA_SSL: env.boolean(false),
  KAFKA_SSL_CA: z.string().min(1).optional(),
  KAFKA_SSL_CERT: z.string().min(1).optional(),
  KAFKA_SSL_KEY: z
    .string()
    .min(1)
    .transform((v) => new Secret(v))
    .optional(),
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(
      z.enum(['scram-sha-512', 'scram-sha-256', 'plain'], 'must be SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN'),
    )
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z
    .string()
    .min(1)
    .transform((v) => new Secret(v))
    .optional(),
} as const;

/** The variables every service reads; a service extends this with its own. */
export const serviceEnvShape = {
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: env.port(8080),
  /** Serves Prometheus `/metrics` on this port when set (0 picks a free one). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: env.postgresUrl(),
  DATABASE_POOL_MAX: env.positiveInt(10),
  KAFKA_BROKERS: env.hostPortList(),
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  ...kafkaSecurityEnvShape,
  SHUTDOWN_TIMEOUT_MS: env.positiveInt(25_000),
  READINESS_TIMEOUT_MS: env.positiveInt(2_000),
} as const;

export const serviceEnvSchema = z.object(serviceEnvShape);
export type ServiceConfig = z.output<typeof serviceEnvSchema>;
