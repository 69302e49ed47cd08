import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { StackSecrets } from '@qbo/stack/secrets';
import {
  ORG_TOKEN_AUDIENCE,
  ORG_TOKEN_ISSUER,
  PLATFORM_ORIGIN,
  QBO_CLIENT_ID,
  type StackPorts,
} from '@qbo/stack/services';
import { parse, stringify } from 'yaml';
import type { DeployableName } from './build.js';
import { dockerEnv } from './engine.js';
import { must, run as run_ } from './exec.js';

/**
 * The compose stack's own containers of our images, run from docker-compose.yml as it is plus an override:
 * on the host's network (this engine has no bridge), against the host's Postgres and Redis and the project's
 * Kafka broker (plaintext, as tests use it), on free ports, with this run's secrets as files. The upstream
 * images of the stack (Kafka, Postgres, Redis, registry, observability) cannot be pulled here and stay out.
 */
export interface ComposeRun {
  project: string;
  ports: StackPorts;
  metricsPorts: Record<Exclude<DeployableName, 'qbo-simulator'>, number>;
  secrets: StackSecrets;
  databaseUrl: string;
  brokers: string;
  redisUrl: string;
  topicPrefix: string;
  /** Where the secret files and the override go (removed by `down`). */
  dir: string;
}

export const APP_SERVICES = ['token-service', 'auth-service', 'sync-service', 'webhook-ingest'] as const;
export const COMPOSE_SERVICES: readonly DeployableName[] = ['qbo-simulator', ...APP_SERVICES];
/** compose's default stop_grace_period, which the stack's file keeps. */
export const GRACE_SECONDS = 10;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The secret files docker-compose.yml declares, with this run's values (one the run does not use: random). */
export function secretFiles(run: ComposeRun): Record<string, string> {
  const s = run.secrets;
  return {
    database_url: run.databaseUrl,
    qbo_client_secret: s.qboClientSecret,
    token_service_credential: s.authServiceCredential,
    sync_service_credential: s.syncServiceCredential,
    token_api_callers: [
      `auth-service=${s.authServiceCredential}`,
      `sync-service=${s.syncServiceCredential}`,
      `operator=${s.operatorCredential}`,
    ].join(';'),
    token_keys: s.tokenKeys,
    token_active_key_id: s.tokenKeys.split(':')[0] ?? '',
    state_cookie_secret: s.stateCookieSecret,
    org_jwt_secret: s.orgJwtSecret,
    webhook_verifier_token: s.webhookVerifierToken,
  };
}

const UNUSED_SECRETS = [
  'postgres_password',
  'grafana_admin_password',
  'kafka_ca',
  'kafka_broker_keystore',
  'kafka_password_admin',
  'kafka_password_auth_service',
  'kafka_password_token_service',
  'kafka_password_sync_service',
  'kafka_password_webhook_ingest',
  'kafka_password_kafka_exporter',
];

const readyCheck = (port: number, path: string, ok: string) => [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(${ok}),()=>process.exit(1))`,
];

/** The override: what differs from docker-compose.yml on this machine. */
export function override(run: ComposeRun): unknown {
  const at = (port: number) => `http://127.0.0.1:${port}`;
  const { ports, metricsPorts } = run;
  const common = {
    HOST: '127.0.0.1',
    KAFKA_BROKERS: run.brokers,
    // The project's broker speaks plaintext to tests; blank values count as unset.
    KAFKA_SSL: 'false',
    KAFKA_SSL_CA_FILE: '',
    KAFKA_SASL_MECHANISM: '',
    KAFKA_SASL_USERNAME: '',
    KAFKA_SASL_PASSWORD_FILE: '',
    KAFKA_TOPIC_PREFIX: run.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '3',
    SCHEMA_REGISTRY_URL: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  };
  const app = (name: (typeof APP_SERVICES)[number], env: Record<string, string>) => ({
    network_mode: 'host',
    environment: { ...common, PORT: String(ports[name]), METRICS_PORT: String(metricsPorts[name]), ...env },
    // Up to two minutes for a first start on a busy machine.
    healthcheck: {
      test: readyCheck(ports[name], '/readyz', 'r.ok?0:1'),
      interval: '2s',
      retries: 60,
      start_period: '10s',
    },
  });
  const intuit = { QBO_OAUTH_BASE_URL: at(ports.simulator) };
  const secrets = Object.fromEntries(
    [...Object.keys(secretFiles(run)), ...UNUSED_SECRETS].map((name) => [
      name,
      { file: join(run.dir, 'secrets', name) },
    ]),
  );
  return {
    services: {
      'qbo-simulator': {
        network_mode: 'host',
        command: [
          'sh',
          '-c',
          [
            'QBO_SIM_CLIENT_SECRET="$$(cat /run/secrets/qbo_client_secret)"',
            'QBO_SIM_VERIFIER_TOKEN="$$(cat /run/secrets/webhook_verifier_token)"',
            `exec node dist/cli.js --host 127.0.0.1 --port ${ports.simulator} --control --consent auto`,
            `--seed 42 --companies 2 --records 200 --client-id ${QBO_CLIENT_ID}`,
            `--redirect-uri ${at(ports['auth-service'])}/oauth/callback`,
            `--webhook ${at(ports['webhook-ingest'])}/webhooks/quickbooks --webhook-format cloudevents`,
          ].join(' '),
        ],
        healthcheck: { test: readyCheck(ports.simulator, '/', '0'), interval: '2s' },
      },
      'token-service': app('token-service', {
        ...intuit,
        // As `npm start`: the demo shows the forced-refresh throttle without waiting 30 s.
        TOKEN_FORCED_REFRESH_INTERVAL_MS: '3000',
      }),
      'auth-service': app('auth-service', {
        ...intuit,
        QBO_REDIRECT_URI: `${at(ports['auth-service'])}/oauth/callback`,
        PUBLIC_URL: at(ports['auth-service']),
        TOKEN_SERVICE_URL: at(ports['token-service']),
        RETURN_TO_ALLOWED_ORIGINS: PLATFORM_ORIGIN,
        CORS_ALLOWED_ORIGINS: PLATFORM_ORIGIN,
        AUTH_JWT_ISSUER: ORG_TOKEN_ISSUER,
        AUTH_JWT_AUDIENCE: ORG_TOKEN_AUDIENCE,
        REDIS_URL: run.redisUrl,
      }),
      'sync-service': app('sync-service', {
        QBO_API_BASE_URL: at(ports.simulator),
        TOKEN_SERVICE_URL: at(ports['token-service']),
        REDIS_URL: run.redisUrl,
      }),
      'webhook-ingest': app('webhook-ingest', {}),
    },
    secrets,
  };
}

/** The merged stack file `up` writes: docker-compose.yml with the override applied. */
export const composeArgs = (run: ComposeRun) => ['-p', run.project, '-f', join(run.dir, 'compose.yml')];

/** Writes the secret files (readable by the containers' uid only) and the override, then starts our services. */
export async function up(run: ComposeRun, root: string): Promise<void> {
  await mkdir(join(run.dir, 'secrets'), { recursive: true });
  const files = secretFiles(run);
  for (const name of UNUSED_SECRETS) files[name] = 'unused here';
  for (const [name, value] of Object.entries(files)) {
    const file = join(run.dir, 'secrets', name);
    await writeFile(file, value, { mode: 0o400 });
    await chown(file, 1000, 1000);
    await chmod(file, 0o400);
  }
  await writeFile(join(run.dir, 'compose.override.yml'), stringify(override(run), { version: '1.1' }));
  // On the host's network nothing is published, and compose 1.29 refuses `ports:` there; an override can add
  // to a list but not empty it, so the merged configuration is written out without them and run as it is.
  const merged = parse(
    await must(
      'docker-compose',
      [
        '-f',
        join(root, 'docker-compose.yml'),
        '-f',
        join(run.dir, 'compose.override.yml'),
        'config',
        '--no-interpolate',
      ],
      { env: dockerEnv(), cwd: root },
    ),
    { version: '1.1' },
  ) as { services: Record<string, { network_mode?: string; ports?: unknown }> };
  for (const service of Object.values(merged.services))
    if (service.network_mode === 'host') delete service.ports;
  await writeFile(join(run.dir, 'compose.yml'), stringify(merged, { version: '1.1' }));
  try {
    await must(
      'docker-compose',
      [...composeArgs(run), 'up', '-d', '--no-build', '--no-deps', ...COMPOSE_SERVICES],
      { env: dockerEnv(), cwd: root },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await describeContainers(run)}`);
  }
}

/** Each container's state, last healthcheck output and last log lines: what a failed start needs explained. */
async function describeContainers(run: ComposeRun): Promise<string> {
  const ids = (
    await run_('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${run.project}`])
  ).stdout
    .split('\n')
    .filter(Boolean);
  const lines: string[] = [];
  for (const id of ids) {
    const state = await run_('docker', [
      'inspect',
      '--format',
      '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}} {{range .State.Health.Log}}[{{.ExitCode}} {{.Output}}]{{end}}{{end}}',
      id,
    ]);
    const logs = await run_('docker', ['logs', '--tail', '5', id]);
    lines.push(state.stdout.trim(), `${logs.stdout}${logs.stderr}`.trim().slice(-1500));
  }
  return lines.join('\n');
}

export async function containerOf(run: ComposeRun, root: string, service: DeployableName): Promise<string> {
  const id = (
    await must('docker-compose', [...composeArgs(run), 'ps', '-q', service], {
      env: dockerEnv(),
      cwd: root,
    })
  ).trim();
  if (!id) throw new Error(`no container for ${service}`);
  return id;
}

export async function down(run: ComposeRun, root: string): Promise<void> {
  await must('docker-compose', [...composeArgs(run), 'down', '-v', '-t', String(GRACE_SECONDS)], {
    env: dockerEnv(),
    cwd: root,
  });
  await rm(run.dir, { recursive: true, force: true });
}
