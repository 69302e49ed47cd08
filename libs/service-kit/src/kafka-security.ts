import { isIP } from 'node:net';
import { type ConnectionOptions, connect } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { z } from 'zod';
import { ConfigError, type kafkaSecurityEnvShape } from './config.js';

export type KafkaSecurityConfig = z.output<z.ZodObject<typeof kafkaSecurityEnvShape>>;

/** What kafkajs takes: `ssl` and `sasl`, absent for a plaintext, unauthenticated connection. */
export interface KafkaSecurity {
  ssl?: ConnectionOptions | true;
  sasl?: SASLOptions;
}

const PEM = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  key: /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/,
};

/**
 * Checks that the security variables fit together, so a half-configured TLS or SASL stops the service at
 * start-up by variable name rather than at its first connection (a file that cannot be read is reported by
 * `parseConfig` as `NAME_FILE`). Throws ConfigError listing every problem; never repeats a value back.
 */
export function kafkaSecurity(config: KafkaSecurityConfig): KafkaSecurity {
  const problems: string[] = [];
  const key = config.KAFKA_SSL_KEY?.reveal();
  const { KAFKA_SSL_CA: ca, KAFKA_SSL_CERT: cert } = config;
  const set = [ca && 'KAFKA_SSL_CA', cert && 'KAFKA_SSL_CERT', key && 'KAFKA_SSL_KEY'].filter(
    (n): n is string => typeof n === 'string',
  );
  if (!config.KAFKA_SSL && set.length > 0) problems.push(`${set.join(', ')}: set only with KAFKA_SSL=true`);
  if ((cert === undefined) !== (key === undefined)) {
    problems.push(
      'KAFKA_SSL_CERT, KAFKA_SSL_KEY: a client certificate needs its key, and a key its certificate',
    );
  }
  for (const [name, text, kind] of [
    ['KAFKA_SSL_CA', ca, 'certificate'],
    ['KAFKA_SSL_CERT', cert, 'certificate'],
    ['KAFKA_SSL_KEY', key, 'key'],
  ] as const) {
    if (text !== undefined && !PEM[kind].test(text)) problems.push(`${name}: holds no PEM ${kind}`);
  }

  const mechanism = config.KAFKA_SASL_MECHANISM;
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (mechanism === undefined) {
    if (username !== undefined || password !== undefined) {
      problems.push('KAFKA_SASL_MECHANISM: is required when a SASL user name or password is set');
    }
  } else {
    if (username === undefined) problems.push('KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM');
    if (password === undefined) problems.push('KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM');
    // PLAIN sends the password as it is: only inside TLS.
    if (mechanism === 'plain' && !config.KAFKA_SSL) {
      problems.push('KAFKA_SASL_MECHANISM: PLAIN sends the password in clear; it needs KAFKA_SSL=true');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const security: KafkaSecurity = {};
  if (config.KAFKA_SSL) {
    const tls: ConnectionOptions = { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
    security.ssl = Object.keys(tls).length > 0 ? tls : true;
  }
  if (mechanism !== undefined && username !== undefined && password !== undefined) {
    // kafkajs reads the password from this object at each authentication; a getter keeps it off the
    // object's enumerable fields, so logging the options (or an error that carries them) cannot print it.
    const sasl = { mechanism, username } as SASLOptions;
    Object.defineProperty(sasl, 'password', { get: () => password.reveal(), enumerable: false });
    security.sasl = sasl;
  }
  return security;
}

/** Why a TLS handshake can fail that no retry will mend: the broker's certificate is not one this client trusts. */
const untrusted = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The broker's certificate was refused: a configuration error, reported at once rather than retried. */
export class KafkaTlsError extends Error {
  readonly code: string;

  constructor(broker: string, code: string) {
    super(
      `the TLS certificate of Kafka broker ${broker} is not trusted (${code}): ` +
        'KAFKA_SSL_CA (or KAFKA_SSL_CA_FILE) must hold the CA that signed it, and the broker be named as in it',
    );
    this.name = 'KafkaTlsError';
    this.code = code;
  }
}

/**
 * One TLS handshake with the first broker, before kafkajs connects: kafkajs retries a refused certificate
 * like a network error for half a minute and then reports only that it could not connect. A broker that
 * does not answer is left to kafkajs's retries.
 */
export async function checkBrokerCertificate(
  broker: string,
  ssl: ConnectionOptions | true,
  timeoutMs = 3_000,
): Promise<void> {
  const [host = '', port = ''] = [
    broker.slice(0, broker.lastIndexOf(':')),
    broker.slice(broker.lastIndexOf(':') + 1),
  ];
  const code = await new Promise<string | undefined>((resolve) => {
    const socket = connect({
      ...(ssl === true ? {} : ssl),
      host,
      port: Number(port),
      servername: isIP(host) ? undefined : host,
      timeout: timeoutMs,
    });
    const done = (result: string | undefined) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code));
  });
  if (code !== undefined && untrusted.has(code)) throw new KafkaTlsError(broker, code);
}
