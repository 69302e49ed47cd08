import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  checkAppServices,
  checkHardened,
  checkHealthyDependencies,
  checkLoopbackPorts,
  checkNoInlineSecrets,
  checkPinnedImages,
  checkScrapeTargets,
  checkUniqueHostPorts,
  metricsTargetsOf,
} from './compose-checks.js';
import {
  checkBaseImages,
  checkDockerignore,
  checkLibsPerDeployable,
  checkStart,
  checkUser,
  parseDockerfile,
  stageEnv,
} from './compose-dockerfile.js';
import { checkDeclared, makeSecrets, withSecretFiles } from './compose-env.js';
import {
  buildOf,
  type ComposeFile,
  dependenciesOf,
  environmentOf,
  parseCompose,
  parseYaml,
  read,
  secretNamesOf,
  workspaces,
} from './compose-files.js';
import {
  checkBrokerSecrets,
  checkBrokerSecurity,
  checkBrokerStart,
  checkKafkaClients,
  checkLagExporter,
  parseProperties,
  scramUsersOf,
} from './compose-kafka.js';
import {
  checkDashboard,
  dashboardQueries,
  exposedNames,
  promqlMetricNames,
  scanInstruments,
} from './compose-metrics.js';
import {
  loadConfigSchema,
  loadKafkaSetupSchema,
  loadServiceKit,
  parseWith,
  repoRoot,
  runtimeVariables,
  type ServiceKit,
} from './service-config.js';

// The local compose stack and the image build, checked offline against the code they run: there is no
// Docker engine in CI. Each check is also run once on a broken copy of its input, to show it can fail.

const compose = parseCompose(read('docker-compose.yml'));
const broken = (change: (c: ComposeFile) => void): ComposeFile => {
  const copy = structuredClone(compose);
  change(copy);
  return copy;
};
const serviceOf = (c: ComposeFile, name: string) => {
  const s = c.services[name];
  assert.ok(s, `${name} is in the compose file`);
  return s;
};
const envOf = (c: ComposeFile, name: string) => {
  const s = serviceOf(c, name);
  const env = environmentOf(s);
  s.environment = env;
  return env;
};
const someMatch = (problems: string[], pattern: RegExp) =>
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern}, got ${JSON.stringify(problems)}`,
  );

/** The deployable services: every folder under services/. */
const APP = readdirSync(join(repoRoot, 'services')).filter((d) =>
  existsSync(join(repoRoot, 'services', d, 'package.json')),
);
const SIMULATOR = 'qbo-simulator';
/** The operator console (tools/console): an image and a compose entry of its own. */
const CONSOLE = 'console';
/** The one-shot that creates the topics and ACLs as the Kafka admin. */
const KAFKA_SETUP = 'kafka-setup';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's WORKDIR, with its ARG, as written there
const SERVICE_WORKDIR = '/app/services/${SERVICE}';
const all = workspaces();

/** Secrets from the project's script in a temporary folder, removed after the run. */
const freshSecrets = () => {
  const dir = makeSecrets(repoRoot);
  after(() => rmSync(dirname(dir), { recursive: true, force: true }));
  return dir;
};

describe('docker-compose.yml', () => {
  test('runs every service of services/, the simulator and the console', () => {
    for (const name of [...APP, SIMULATOR, CONSOLE])
      assert.ok(compose.services[name], `${name} is in the compose file`);
  });

  test('the console forwards to sync-service and auth-service by their compose names and ports, and waits for both', () => {
    const c = serviceOf(compose, CONSOLE);
    const env = environmentOf(c);
    const portOf = (name: string) => String(environmentOf(serviceOf(compose, name)).PORT);
    assert.equal(env.SYNC_SERVICE_URL, `http://sync-service:${portOf('sync-service')}`);
    assert.equal(env.AUTH_SERVICE_URL, `http://auth-service:${portOf('auth-service')}`);
    assert.equal(env.HOST, '0.0.0.0', 'it listens beyond its own container');
    assert.deepEqual(
      Object.keys(dependenciesOf(c)).sort(),
      ['auth-service', 'sync-service'],
      'it starts after the two APIs it forwards to',
    );
    assert.match(JSON.stringify(c.healthcheck?.test), new RegExp(`127\\.0\\.0\\.1:${env.PORT}/readyz`));
    // It holds no secret: no secret mounted, none in its environment.
    assert.deepEqual(secretNamesOf(c), []);
    assert.equal(c.read_only, true, 'hardened like every container of ours');
  });

  test('every service_healthy dependency has a healthcheck', () => {
    assert.deepEqual(checkHealthyDependencies(compose), []);
    const copy = broken((c) => {
      delete serviceOf(c, 'postgres').healthcheck;
    });
    someMatch(
      checkHealthyDependencies(copy),
      /waits for postgres to be healthy, but postgres has no healthcheck/,
    );
  });

  test('published host ports are unique', () => {
    assert.deepEqual(checkUniqueHostPorts(compose), []);
    const copy = broken((c) => {
      serviceOf(c, 'grafana').ports = ['8080:3000'];
    });
    someMatch(checkUniqueHostPorts(copy), /host port 8080\/tcp is published by both/);
  });

  test('every published port listens on 127.0.0.1 only', () => {
    assert.deepEqual(checkLoopbackPorts(compose), []);
    const copy = broken((c) => {
      serviceOf(c, 'redis').ports = ['6380:6379'];
    });
    assert.deepEqual(checkLoopbackPorts(copy), [
      'redis: port "6380:6379" is published on every address, not 127.0.0.1',
    ]);
  });

  test('no secret value is inline: secret-like names are *_FILE paths to secrets from the untracked folder', () => {
    assert.deepEqual(checkNoInlineSecrets(compose), []);
    const inline = broken((c) => {
      const env = envOf(c, 'token-service');
      delete env.TOKEN_KEYS_FILE;
      env.TOKEN_KEYS = 'local1:c2VjcmV0';
    });
    someMatch(checkNoInlineSecrets(inline), /token-service: TOKEN_KEYS is set inline/);
    const inUrl = broken((c) => {
      const env = envOf(c, 'sync-service');
      delete env.DATABASE_URL_FILE;
      env.DATABASE_URL = 'postgres://qbo:hunter2@postgres:5432/qbo';
    });
    someMatch(checkNoInlineSecrets(inUrl), /sync-service: DATABASE_URL holds a URL with a password/);
    const unmounted = broken((c) => {
      serviceOf(c, 'webhook-ingest').secrets = ['database_url'];
    });
    someMatch(
      checkNoInlineSecrets(unmounted),
      /WEBHOOK_VERIFIER_TOKENS_FILE names secret webhook_verifier_token, not mounted/,
    );
    const tracked = broken((c) => {
      c.secrets = { ...c.secrets, org_jwt_secret: { file: './deploy/compose/org_jwt_secret' } };
    });
    someMatch(
      checkNoInlineSecrets(tracked),
      /secret org_jwt_secret must come from a file under \.\/\.local\//,
    );
  });

  test('the services and the simulator are hardened: numeric non-root, read-only, no capabilities, init', () => {
    assert.deepEqual(checkHardened(compose, [...APP, SIMULATOR, KAFKA_SETUP]), []);
    const copy = broken((c) => {
      const s = serviceOf(c, 'auth-service');
      s.user = 'node';
      s.read_only = false;
      s.cap_drop = [];
      s.healthcheck = { test: ['CMD-SHELL', 'curl -f http://127.0.0.1:8080/readyz'] };
    });
    const problems = checkHardened(copy, [...APP, SIMULATOR]);
    someMatch(problems, /auth-service: user must be a numeric non-root/);
    someMatch(problems, /auth-service: read_only/);
    someMatch(problems, /auth-service: cap_drop/);
    someMatch(problems, /auth-service: healthcheck must run node/);
  });

  test('each service is built for itself, probed on its own PORT and waits for Postgres and Kafka', () => {
    assert.deepEqual(checkAppServices(compose, APP), []);
    const copy = broken((c) => {
      envOf(c, 'webhook-ingest').PORT = '8090';
      const build = buildOf(serviceOf(c, 'sync-service'));
      if (build && typeof build === 'object') build.args = { SERVICE: 'token-service' };
    });
    const problems = checkAppServices(copy, APP);
    someMatch(problems, /webhook-ingest: healthcheck must fetch http:\/\/127\.0\.0\.1:8090\/readyz/);
    someMatch(problems, /sync-service: must build target runtime with args\.SERVICE=sync-service/);
  });

  test('every image is pinned to a version', () => {
    assert.deepEqual(checkPinnedImages(compose), []);
    const copy = broken((c) => {
      serviceOf(c, 'redis').image = 'redis';
      serviceOf(c, 'grafana').image = 'grafana/grafana:latest';
    });
    const problems = checkPinnedImages(copy);
    someMatch(problems, /redis: redis has no tag/);
    someMatch(problems, /grafana: grafana\/grafana:latest is not pinned/);
  });

  test('every compose secret is one deploy/compose/make-secrets.sh creates', () => {
    const dir = freshSecrets();
    const made = new Set(readdirSync(dir));
    for (const [name, def] of Object.entries(compose.secrets ?? {}))
      assert.ok(
        def.file && made.has(basename(def.file)),
        `make-secrets.sh creates the file of secret ${name}`,
      );
  });
});

describe('the compose environment against each service’s config schema', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const imageEnv = stageEnv(stages, 'runtime');
  const secretsDir = freshSecrets();
  const runtime = runtimeVariables();
  let kit: ServiceKit;
  before(async () => {
    kit = await loadServiceKit();
  });

  for (const service of APP) {
    test(`${service}: every variable set is declared, and its config parses with the stack's secrets`, async () => {
      const schema = await loadConfigSchema(service);
      const env = environmentOf(serviceOf(compose, service));
      assert.deepEqual(checkDeclared(service, env, new Set(Object.keys(schema.shape)), runtime), []);
      const full = { ...imageEnv, ...withSecretFiles(env, compose, secretsDir) };
      assert.deepEqual(parseWith(kit, schema, full).problems, []);
    });
  }

  test(`${KAFKA_SETUP}: every variable set is declared by event-bus's setup, and it parses with the stack's secrets`, async () => {
    const schema = await loadKafkaSetupSchema();
    const env = environmentOf(serviceOf(compose, KAFKA_SETUP));
    assert.deepEqual(checkDeclared(KAFKA_SETUP, env, new Set(Object.keys(schema.shape)), runtime), []);
    assert.deepEqual(parseWith(kit, schema, withSecretFiles(env, compose, secretsDir)).problems, []);
    const copy = broken((c) => {
      const e = envOf(c, KAFKA_SETUP);
      e.KAFKA_LAG_READERS = e.KAFKA_LAG_READER ?? '';
      e.KAFKA_LAG_READER_SERVICES = 'token-service,billing-service';
    });
    const bad = environmentOf(serviceOf(copy, KAFKA_SETUP));
    someMatch(
      checkDeclared(KAFKA_SETUP, bad, new Set(Object.keys(schema.shape)), runtime),
      /sets KAFKA_LAG_READERS/,
    );
    someMatch(
      parseWith(kit, schema, withSecretFiles(bad, copy, secretsDir)).problems,
      /KAFKA_LAG_READER_SERVICES/,
    );
  });

  test('a misspelt, a missing and an unreadable variable are each caught', async () => {
    const schema = await loadConfigSchema('auth-service');
    const copy = broken((c) => {
      const env = envOf(c, 'auth-service');
      env.AUTH_JWT_ISUER = env.AUTH_JWT_ISSUER ?? '';
      delete env.AUTH_JWT_ISSUER;
      delete env.TOKEN_SERVICE_URL;
      c.secrets = { ...c.secrets, state_cookie_secret: { file: './.local/compose-secrets/not-made' } };
    });
    const env = environmentOf(serviceOf(copy, 'auth-service'));
    someMatch(
      checkDeclared('auth-service', env, new Set(Object.keys(schema.shape)), runtime),
      /sets AUTH_JWT_ISUER, but the service's config declares no/,
    );
    const { problems } = parseWith(kit, schema, { ...imageEnv, ...withSecretFiles(env, copy, secretsDir) });
    someMatch(problems, /AUTH_JWT_ISSUER: is required/);
    someMatch(problems, /TOKEN_SERVICE_URL: is required/);
    someMatch(problems, /STATE_COOKIE_SECRET_FILE: cannot read the file/);
  });
});

describe('Kafka security', () => {
  const props = parseProperties(read('deploy/compose/kafka/server.properties'));
  const startScript = read('deploy/compose/kafka/start.sh');
  const users = scramUsersOf(startScript);
  const roles = { services: APP, setup: KAFKA_SETUP };

  test('the broker has no plaintext listener, publishes only SASL_SSL, and denies what no ACL allows', () => {
    assert.deepEqual(checkBrokerSecurity(props, compose, 'kafka'), []);
    const plain = new Map(props);
    plain.set('listeners', `${props.get('listeners')},PLAINTEXT://:19092`);
    plain.set('allow.everyone.if.no.acl.found', 'true');
    plain.set('sasl.enabled.mechanisms', 'SCRAM-SHA-512,PLAIN');
    const exposed = broken((c) => {
      serviceOf(c, 'kafka').ports = ['127.0.0.1:9092:9092', '127.0.0.1:29093:29093'];
    });
    const problems = checkBrokerSecurity(plain, exposed, 'kafka');
    someMatch(problems, /listener PLAINTEXT is PLAINTEXT: clients must use SASL_SSL/);
    someMatch(problems, /allow.everyone.if.no.acl.found must be false/);
    someMatch(problems, /sasl.enabled.mechanisms must be SCRAM-SHA-512/);
    someMatch(problems, /kafka publishes port 29093, which is not a SASL_SSL listener/);
  });

  test('the broker runs the start script and server.properties checked here, mounted read-only', () => {
    const folder = './deploy/compose/kafka';
    assert.deepEqual(checkBrokerStart(compose, startScript, 'kafka', folder), []);
    const imageStart = broken((c) => {
      serviceOf(c, 'kafka').command = ['/etc/kafka/docker/run'];
    });
    someMatch(
      checkBrokerStart(imageStart, startScript, 'kafka', folder),
      /kafka: must run \/opt\/qbo\/kafka\/start.sh/,
    );
    const unmounted = broken((c) => {
      serviceOf(c, 'kafka').volumes = [];
    });
    someMatch(checkBrokerStart(unmounted, startScript, 'kafka', folder), /must be mounted read-only/);
  });

  test('the broker mounts the password of every SCRAM user it formats and its TLS files', () => {
    assert.ok(users.includes('admin'), 'the start script formats the admin');
    assert.deepEqual(checkBrokerSecrets(compose, props, users, 'kafka'), []);
    const copy = broken((c) => {
      serviceOf(c, 'kafka').secrets = ['kafka_ca', 'kafka_password_admin'];
    });
    const problems = checkBrokerSecrets(copy, props, users, 'kafka');
    someMatch(problems, /secret kafka_password_sync_service is not mounted/);
    someMatch(problems, /secret kafka_broker_keystore is not mounted/);
  });

  test('every Kafka client in compose uses SASL_SSL as its own SCRAM user, after the topics and ACLs exist', () => {
    assert.deepEqual(checkKafkaClients(compose, props, users, roles), []);
    const copy = broken((c) => {
      const auth = envOf(c, 'auth-service');
      auth.KAFKA_SSL = 'false';
      auth.KAFKA_BROKERS = 'kafka:19092';
      const sync = envOf(c, 'sync-service');
      sync.KAFKA_SASL_USERNAME = 'token-service';
      sync.KAFKA_SASL_PASSWORD_FILE = '/run/secrets/kafka_password_token_service';
      const ingest = envOf(c, 'webhook-ingest');
      delete ingest.KAFKA_SASL_MECHANISM;
      delete ingest.KAFKA_SSL_CA_FILE;
      serviceOf(c, 'token-service').depends_on = { kafka: { condition: 'service_healthy' } };
    });
    const problems = checkKafkaClients(copy, props, users, roles);
    someMatch(problems, /auth-service: KAFKA_SSL must be true/);
    someMatch(problems, /auth-service: KAFKA_BROKERS kafka:19092 is not an advertised SASL_SSL listener/);
    someMatch(problems, /sync-service: KAFKA_SASL_USERNAME is token-service, not its own/);
    someMatch(problems, /sync-service: shares Kafka user token-service with token-service/);
    someMatch(problems, /webhook-ingest: KAFKA_SASL_MECHANISM must be SCRAM-SHA-512/);
    someMatch(problems, /webhook-ingest: KAFKA_SSL_CA_FILE must name a mounted secret/);
    someMatch(problems, /token-service: must wait for kafka-setup to complete successfully/);
    const unknown = broken((c) => {
      const env = envOf(c, KAFKA_SETUP);
      env.KAFKA_SASL_USERNAME = 'root';
    });
    someMatch(
      checkKafkaClients(unknown, props, users, roles),
      /Kafka user root is not made by the broker's start script/,
    );
  });

  test('kafka-exporter reads lag over TLS as its own SCRAM user, whom kafka-setup grants describe', () => {
    const roles = { exporter: 'kafka-exporter', setup: KAFKA_SETUP };
    assert.deepEqual(checkLagExporter(compose, props, users, roles), []);
    const copy = broken((c) => {
      const s = serviceOf(c, 'kafka-exporter');
      s.command = ['--kafka.server=kafka:19092'];
      delete envOf(c, KAFKA_SETUP).KAFKA_LAG_READER;
    });
    const problems = checkLagExporter(copy, props, users, roles);
    someMatch(problems, /--tls.enabled is not set/);
    someMatch(problems, /--sasl.mechanism must be scram-sha512/);
    someMatch(problems, /--kafka.server kafka:19092 is not a SASL_SSL listener/);
    someMatch(problems, /kafka-setup: KAFKA_LAG_READER must be kafka-exporter's user/);
  });
});

describe('Prometheus, the collector and Grafana', () => {
  const prometheus = parseYaml(read('deploy/compose/prometheus/prometheus.yml'));
  const collector = parseYaml(read('deploy/compose/otel-collector/config.yaml')) as {
    exporters: Record<string, { endpoint?: string }>;
    service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
  };
  const collectorMetricsPort = collector.exporters.prometheus?.endpoint?.split(':').at(-1);
  const kafkaExporterPort = String(serviceOf(compose, 'kafka-exporter').ports?.[0] ?? '')
    .split(':')
    .at(-1);
  const expected = [
    ...metricsTargetsOf(compose),
    `otel-collector:${collectorMetricsPort}`,
    `kafka-exporter:${kafkaExporterPort}`,
  ];

  test('Prometheus scrapes every metrics port compose sets, the collector and kafka-exporter', () => {
    assert.deepEqual(
      APP.map((s) => expected.some((t) => t.startsWith(`${s}:`))),
      APP.map(() => true),
      'every service sets METRICS_PORT',
    );
    assert.deepEqual(checkScrapeTargets(prometheus, expected), []);
    const moved = broken((c) => {
      envOf(c, 'sync-service').METRICS_PORT = '9465';
    });
    someMatch(checkScrapeTargets(prometheus, metricsTargetsOf(moved)), /does not scrape sync-service:9465/);
  });

  test('the collector takes OTLP in and sends traces to Jaeger and metrics to its Prometheus endpoint', () => {
    const { traces, metrics } = collector.service.pipelines;
    assert.ok(traces?.receivers.includes('otlp') && metrics?.receivers.includes('otlp'));
    const tracesTo = (traces?.exporters ?? []).map((e) => collector.exporters[e]?.endpoint ?? '');
    assert.ok(
      tracesTo.some((endpoint) => endpoint.startsWith('jaeger:')),
      `traces go to ${tracesTo}`,
    );
    assert.ok(metrics?.exporters.includes('prometheus'));
    const tracesEndpoint = environmentOf(
      serviceOf(compose, 'token-service'),
    ).OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    assert.match(
      tracesEndpoint ?? '',
      /^http:\/\/otel-collector:4318\//,
      'services send traces to the collector',
    );
  });

  test('the dashboard queries only metrics the code defines, on the provisioned datasource', async () => {
    const { instruments, unreadable } = scanInstruments(repoRoot);
    assert.deepEqual(unreadable, [], 'every instrument name in the compiled code is a literal');
    assert.ok(instruments.length > 0, 'the compiled code was found (run the build first)');
    const known = await exposedNames(instruments);
    const datasources = parseYaml(
      read('deploy/compose/grafana/provisioning/datasources/datasources.yaml'),
    ) as {
      datasources: { uid: string; type: string }[];
    };
    const uids = new Set(datasources.datasources.filter((d) => d.type === 'prometheus').map((d) => d.uid));
    const dashboardText = read('deploy/compose/grafana/dashboards/qbo-platform.json');
    assert.deepEqual(checkDashboard(JSON.parse(dashboardText), known, uids), []);

    // The name the collector's exporter would give (unit suffix) is not the one the services expose.
    const renamed = JSON.parse(
      dashboardText.replaceAll(
        'qbo_tokens_refresh_duration_bucket',
        'qbo_tokens_refresh_duration_milliseconds_bucket',
      ),
    );
    someMatch(
      checkDashboard(renamed, known, uids),
      /qbo_tokens_refresh_duration_milliseconds_bucket is not a metric/,
    );

    // The sync row reads sync-service's gauges and histograms; a name the code does not define fails it too.
    const syncQueries = dashboardQueries(JSON.parse(dashboardText))
      .filter((q) => /qbo_sync_/.test(q.expr))
      .map((q) => q.panel);
    assert.deepEqual(
      [...new Set(syncQueries)],
      ['Freshness', 'Runs and open errors', 'Intuit calls', 'Budget waits and run duration'],
    );
    const staleName = JSON.parse(
      dashboardText.replaceAll('qbo_sync_oldest_sync_age', 'qbo_sync_freshness_seconds'),
    );
    someMatch(
      checkDashboard(staleName, known, uids),
      /panel "Freshness": qbo_sync_freshness_seconds is not a metric/,
    );
    // Freshness per connection beside the stalest company's.
    assert.ok(
      dashboardQueries(JSON.parse(dashboardText)).some(
        (q) => q.panel === 'Freshness' && q.expr.includes('qbo_sync_connection_sync_age'),
      ),
    );
  });
});

describe('Prometheus alert rules', () => {
  const rules = () =>
    (
      parseYaml(read('deploy/compose/prometheus/alerts.yml')) as {
        groups: { rules: { alert: string; expr: string; labels?: { severity?: string } }[] }[];
      }
    ).groups.flatMap((g) => g.rules);

  test('are loaded by Prometheus and mounted where it reads them', () => {
    const config = parseYaml(read('deploy/compose/prometheus/prometheus.yml')) as { rule_files?: string[] };
    assert.deepEqual(config.rule_files, ['/etc/prometheus/alerts.yml']);
    assert.match(
      read('docker-compose.yml'),
      /- \.\/deploy\/compose\/prometheus\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro/,
    );
  });

  test('alert only on metrics the code defines, and on every step of the refresh pause', async () => {
    const known = await exposedNames(scanInstruments(repoRoot).instruments);
    const unknown = (expr: string) => promqlMetricNames(expr).filter((n) => !known.has(n));
    for (const rule of rules()) {
      assert.deepEqual(unknown(rule.expr), [], `${rule.alert}: ${rule.expr}`);
      assert.ok(rule.labels?.severity, `${rule.alert} has a severity`);
    }
    // The check can fail: a name the code does not define is reported.
    assert.deepEqual(unknown('increase(qbo_tokens_app_paused_total[5m]) > 0'), [
      'qbo_tokens_app_paused_total',
    ]);
    const pauseStates = rules()
      .map((r) => /qbo_tokens_app_pause_transitions_total\{state="(\w+)"\}/.exec(r.expr)?.[1])
      .filter((s) => s !== undefined)
      .sort();
    assert.deepEqual(pauseStates, ['paused', 'probe_failed', 'resumed']);
    assert.ok(rules().some((r) => r.expr.includes('qbo_tokens_shred_revoke_total{outcome="given_up"}')));
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = parseDockerfile(text);
  const deployables = [
    ...APP.map((service) => ({ service, dir: `services/${service}` })),
    { service: SIMULATOR, dir: 'tools/qbo-simulator' },
    { service: CONSOLE, dir: 'tools/console' },
  ];

  test('each image carries exactly the workspace libraries its package.json needs, transitively', () => {
    assert.deepEqual(checkLibsPerDeployable(stages, all, deployables), []);
    const short = parseDockerfile(
      text.replace(/(AS libs-webhook-ingest\s+ENV LIBS=)"[^"]*"/, '$1"events service-kit"'),
    );
    someMatch(checkLibsPerDeployable(short, all, deployables), /libs-webhook-ingest lacks event-bus/);
  });

  test('the runtime images run as a numeric non-root user', () => {
    assert.deepEqual(
      [...checkUser(stages, 'runtime'), ...checkUser(stages, 'simulator'), ...checkUser(stages, 'console')],
      [],
    );
    const named = parseDockerfile(text.replace(/(AS runtime[\s\S]*?)USER 1000:1000/, '$1USER node'));
    someMatch(checkUser(named, 'runtime'), /USER must be a numeric uid/);
  });

  test("the images start what the packages' start scripts start, without npm", () => {
    const starts = new Set(APP.map((s) => all.find((w) => w.dir === `services/${s}`)?.scripts.start));
    assert.equal(starts.size, 1, `one start script for every service: ${[...starts]}`);
    const [start = ''] = [...starts];
    assert.deepEqual(checkStart(stages, 'runtime', start, SERVICE_WORKDIR), []);
    const simulator = all.find((w) => w.dir === 'tools/qbo-simulator')?.scripts.start ?? '';
    assert.deepEqual(checkStart(stages, 'simulator', simulator, '/app/tools/qbo-simulator'), []);
    const consoleStart = all.find((w) => w.dir === 'tools/console')?.scripts.start ?? '';
    assert.deepEqual(checkStart(stages, 'console', consoleStart, '/app/tools/console'), []);
    const viaNpm = parseDockerfile(
      text.replace(/(AS runtime[\s\S]*?)CMD \[[^\]]*\]/, '$1CMD ["npm", "start"]'),
    );
    someMatch(checkStart(viaNpm, 'runtime', start, SERVICE_WORKDIR), /does not run the start script/);
  });

  test('base images are pinned, and node images are the Node the project pins', () => {
    const node = (JSON.parse(read('package.json')) as { devDependencies: Record<string, string> })
      .devDependencies.node;
    assert.ok(node, 'the root package.json pins node');
    assert.deepEqual(checkBaseImages(stages, node), []);
    const floating = parseDockerfile(
      text.replace('FROM node:26.10.0-slim AS deps', 'FROM node:26-slim AS deps'),
    );
    someMatch(checkBaseImages(floating, node), /FROM node:26-slim: the project pins Node/);
  });

  test('compose builds only targets the Dockerfile has, from workspaces that exist', () => {
    const names = new Set(stages.map((s) => s.name));
    for (const [name, s] of Object.entries(compose.services)) {
      const build = buildOf(s);
      if (!build) continue;
      assert.ok(build.target && names.has(build.target), `${name}: target ${build.target} is a stage`);
      const service = build.args?.SERVICE ?? '';
      const dir = build.args?.WORKSPACE ?? `services/${service}`;
      assert.ok(names.has(`libs-${service}`), `${name}: SERVICE=${service} has a libs- stage`);
      assert.ok(existsSync(join(repoRoot, dir, 'package.json')), `${name}: workspace ${dir} exists`);
    }
  });

  test('.dockerignore keeps host builds, dependencies, local state and .git out of the context', () => {
    const ignore = read('.dockerignore');
    assert.deepEqual(checkDockerignore(ignore), []);
    someMatch(checkDockerignore(ignore.replace(/^\.local$/m, '')), /does not exclude \.local/);
  });
});
