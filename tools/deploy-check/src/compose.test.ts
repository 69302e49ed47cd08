import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  checkAppServices,
  checkHardened,
  checkHealthyDependencies,
  checkLoopbackPorts,
  checkNoInlineSecrets,
  checkPinnedImages,
  checkUniqueHostPorts,
} from './compose-checks.js';
import { parseDockerfile, stageEnv } from './compose-dockerfile.js';
import { checkDeclared, withSecretFiles } from './compose-env.js';
import { buildOf, dependenciesOf, environmentOf, read, secretNamesOf } from './compose-files.js';
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
  APP,
  broken,
  CONSOLE,
  compose,
  envOf,
  freshSecrets,
  KAFKA_SETUP,
  SIMULATOR,
  serviceOf,
  someMatch,
} from './compose-test-kit.js';
import {
  loadConfigSchema,
  loadKafkaSetupSchema,
  loadServiceKit,
  parseWith,
  runtimeVariables,
  type ServiceKit,
} from './service-config.js';

// The local compose stack, checked offline against the code it runs: there is no Docker engine in CI. Each
// check is also run once on a broken copy of its input, to show it can fail.

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
