import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ConfigError, parseConfig, type ServiceConfig } from './config.js';
import { type DatabaseOptions, databaseCheck, type MikroORM, openDatabase } from './database.js';
import { createHttpApp, type RequestTimeouts, startHttpServer } from './http.js';
import { createKafka, kafkaCheck } from './kafka.js';
import { checkBrokerCertificate, type KafkaSecurity, kafkaSecurity } from './kafka-security.js';
import { createLogger } from './logger.js';
import { createReadiness } from './readiness.js';
import { createShutdown, phase, type Shutdown, type ShutdownStep } from './shutdown.js';
import type { Telemetry } from './telemetry.js';

export interface ServiceDeps<C extends ServiceConfig> {
  /** The service's name (its consumer groups, event source and logs carry it). */
  name: string;
  /** The Postgres schema it owns. */
  schema: string;
  config: C;
  log: Logger;
  orm: MikroORM;
  kafka: Kafka;
  admin: Admin;
  app: Hono;
  /** Adds a step to the service's shutdown; see `phase` for when it runs. */
  onShutdown(step: ShutdownStep): void;
}

export interface ServiceDefinition<C extends ServiceConfig> {
  name: string;
  /** The Postgres schema this service owns. */
  schema: string;
  configSchema: z.ZodObject & z.ZodType<C>;
  migrations: DatabaseOptions['migrations'];
  /**
   * MikroORM entities, if any. No service has one: the ORM writes an entity's values into the SQL text it
   * sends (only the span redactor's literal scrubbing keeps them out of spans); stores use `query`/`execute`.
   */
  entities?: DatabaseOptions['entities'];
  /** The service's own wiring: routes on `app`, consumers, relays. Runs before the server listens. */
  wire?: (deps: ServiceDeps<C>) => Promise<void> | void;
  /** How long a client may take to send a request (Node's defaults when absent). */
  requestTimeouts?: (config: C) => RequestTimeouts;
}

export interface RunOptions {
  env: Readonly<Record<string, string | undefined>>;
  telemetry: Telemetry;
  exit?: (code: number) => void;
}

export interface RunningService {
  port: number;
  shutdown: Shutdown;
}

/**
 * The start-up every service shares: config (exit 1 listing every bad variable), logger, shutdown
 * handlers, database with migrations, Kafka, health probes, then the service's own wiring and the HTTP
 * server. A failure at any step logs it, closes what was opened, and exits 1.
 */
export async function runService<C extends ServiceConfig>(
  def: ServiceDefinition<C>,
  { env, telemetry, exit = (code) => process.exit(code) }: RunOptions,
): Promise<RunningService | undefined> {
  let config: C;
  let security: KafkaSecurity;
  try {
    config = parseConfig(def.configSchema, env) as C;
    security = kafkaSecurity(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const log = createLogger({ service: def.name });
    log.fatal({ problems: err.problems }, 'invalid configuration');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    exit(1);
    return undefined;
  }

  const log = createLogger({ service: def.name, level: config.LOG_LEVEL });
  const shutdown = createShutdown({ log, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, exit });
  shutdown.installProcessHandlers();
  shutdown.add({ name: 'telemetry', phase: phase.telemetry, run: () => telemetry.shutdown() });

  try {
    const orm = await openDatabase({
      url: config.DATABASE_URL,
      schema: def.schema,
      poolMax: config.DATABASE_POOL_MAX,
      log,
      migrations: def.migrations,
      ...(def.entities ? { entities: def.entities } : {}),
    });
    shutdown.add({ name: 'database', phase: phase.connections, run: () => orm.close() });

    if (security.ssl && config.KAFKA_BROKERS[0])
      await checkBrokerCertificate(config.KAFKA_BROKERS[0], security.ssl);
    const kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID ?? def.name,
      log,
      security,
    });
    const admin = kafka.admin();
    await admin.connect();
    shutdown.add({ name: 'kafka-admin', phase: phase.connections, run: () => admin.disconnect() });

    const readiness = createReadiness({
      checks: { database: databaseCheck(orm), kafka: kafkaCheck(admin) },
      timeoutMs: config.READINESS_TIMEOUT_MS,
    });
    const app = createHttpApp({ log, readiness });
    await def.wire?.({
      name: def.name,
      schema: def.schema,
      config,
      log,
      orm,
      kafka,
      admin,
      app,
      onShutdown: (step) => shutdown.add(step),
    });

    const server = await startHttpServer(app, {
      host: config.HOST,
      port: config.PORT,
      ...def.requestTimeouts?.(config),
    });
    shutdown.add({
      name: 'http',
      phase: phase.ingress,
      run: () => {
        readiness.markStopping();
        return server.close(Math.max(1_000, config.SHUTDOWN_TIMEOUT_MS / 3));
      },
    });
    if (config.METRICS_PORT !== undefined) {
      const metrics = await startMetricsServer(telemetry, config.HOST, config.METRICS_PORT, log);
      if (metrics) shutdown.add({ name: 'metrics', phase: phase.connections, run: metrics.close });
    }
    log.info({ host: config.HOST, port: server.port, schema: def.schema }, 'service started');
    return { port: server.port, shutdown };
  } catch (err) {
    log.fatal({ err }, 'start-up failed');
    await shutdown.run('start-up failed', 1);
    return undefined;
  }
}

/** A separate listener for Prometheus, so scrapes never share the public port or its middleware. */
async function startMetricsServer(telemetry: Telemetry, host: string, port: number, log: Logger) {
  const handler = telemetry.metricsHandler;
  if (!handler) {
    log.warn('METRICS_PORT is set but telemetry is off; no metrics are served');
    return undefined;
  }
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') return handler(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  log.info({ port: (server.address() as AddressInfo).port }, 'metrics server listening');
  return {
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
