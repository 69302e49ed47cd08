import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  answers,
  type BrokerOptions,
  type ClientSecurity,
  ensureJars,
  launchBroker,
  type Resolved,
  resolve,
  stop,
} from './broker.js';

export interface SecureBrokerOptions extends BrokerOptions {
  /** SCRAM-SHA-512 users created at storage format time: name → password. */
  users: Readonly<Record<string, string>>;
  /** The super user's name (the admin of the tests); its password is made here. */
  superUser?: string;
}

export interface SecureBroker {
  address: string;
  pid: number;
  /** The PEM of the CA that signed the broker's certificate: what a client verifies the broker against. */
  caFile: string;
  superUser: { name: string; password: string };
  /** kafkajs's `ssl` and `sasl` for one of the users (the super user's by default). */
  clientSecurity(user?: string, password?: string): ClientSecurity;
  stop(): Promise<boolean>;
}

const SCRAM_NAME = /^[A-Za-z0-9._-]+$/;

function keytool(args: readonly string[]): void {
  const run = spawnSync('keytool', args, { encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run keytool (${run.error.message}); a JDK is required`);
  if (run.status !== 0) throw new Error(`keytool ${args[0]} failed:\n${run.stdout}${run.stderr}`);
}

/**
 * A throwaway CA and a broker certificate signed by it (for 127.0.0.1 and localhost, usable as a server and
 * as a client, the controller listener's mutual TLS), made with the JDK's keytool: PKCS12 stores for the
 * broker, the CA as PEM for Node.
 */
export function makeCertificates(dir: string, storePassword: string) {
  mkdirSync(dir, { recursive: true });
  const p = (name: string) => join(dir, name);
  const store = (file: string) => ['-keystore', p(file), '-storetype', 'PKCS12', '-storepass', storePassword];
  const key = ['-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '7'];
  keytool([
    '-genkeypair',
    '-alias',
    'ca',
    '-dname',
    'CN=qbo-local-ca',
    '-ext',
    'bc:c',
    ...key,
    ...store('ca.p12'),
  ]);
  keytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', p('ca.pem'), ...store('ca.p12')]);
  keytool([
    '-genkeypair',
    '-alias',
    'broker',
    '-dname',
    'CN=qbo-local-broker',
    ...key,
    ...store('broker.p12'),
  ]);
  keytool(['-certreq', '-alias', 'broker', '-file', p('broker.csr'), ...store('broker.p12')]);
  keytool([
    ...['-gencert', '-alias', 'ca', '-rfc', '-validity', '7'],
    ...['-infile', p('broker.csr'), '-outfile', p('broker.pem')],
    ...['-ext', 'SAN=ip:127.0.0.1,dns:localhost', '-ext', 'EKU=serverAuth,clientAuth'],
    ...store('ca.p12'),
  ]);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', p('ca.pem'), ...store('broker.p12')]);
  keytool(['-importcert', '-alias', 'broker', '-file', p('broker.pem'), ...store('broker.p12')]);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', p('ca.pem'), ...store('truststore.p12')]);
  return { caFile: p('ca.pem'), keystore: p('broker.p12'), truststore: p('truststore.p12') };
}

/**
 * Starts a second, secured broker: one SASL_SSL listener (SCRAM-SHA-512 and -256), TLS certificates made for
 * this run, the given SCRAM users plus a super user, and KRaft's StandardAuthorizer, so that without an ACL
 * nothing is allowed. Its own ports and run folder leave the plain broker alone. Stop it with `stop()`.
 */
export async function startSecure(options: SecureBrokerOptions): Promise<SecureBroker> {
  const r: Resolved = resolve(options);
  const address = `127.0.0.1:${r.port}`;
  if (existsSync(join(r.runDir, 'data')))
    throw new Error(`${r.runDir} already holds a broker; use a fresh folder`);
  const superUser = { name: options.superUser ?? 'admin', password: randomBytes(18).toString('hex') };
  const users = { ...options.users, [superUser.name]: superUser.password };
  for (const [name, password] of Object.entries(users)) {
    // The format tool's `[name=…,password=…]` syntax has no escaping.
    if (!SCRAM_NAME.test(name) || !SCRAM_NAME.test(password)) {
      throw new Error(
        `SCRAM user ${name}: names and passwords are limited to letters, digits, '.', '_' and '-'`,
      );
    }
  }
  if (await answers(address, 1_000)) throw new Error(`port ${r.port} already serves a Kafka broker`);

  const libs = ensureJars(r);
  mkdirSync(join(r.runDir, 'logs'), { recursive: true });
  const storePassword = randomBytes(12).toString('hex');
  const tls = makeCertificates(join(r.runDir, 'tls'), storePassword);
  const properties = join(r.runDir, 'server.properties');
  const values: Record<string, string> = {
    PORT: String(r.port),
    CONTROLLER_PORT: String(r.controllerPort),
    DATA_DIR: join(r.runDir, 'data'),
    SUPER_USER: superUser.name,
    SUPER_PASSWORD: superUser.password,
    KEYSTORE: tls.keystore,
    TRUSTSTORE: tls.truststore,
    STORE_PASSWORD: storePassword,
  };
  const template = readFileSync(join(r.root, 'infra', 'kafka', 'server-sasl-ssl.properties'), 'utf8');
  writeFileSync(
    properties,
    template.replace(/@([A-Z_]+)@/g, (_, name: string) => values[name] ?? `@${name}@`),
    { mode: 0o600 },
  );

  const ca = readFileSync(tls.caFile, 'utf8');
  const clientSecurity = (user = superUser.name, password = users[user] ?? ''): ClientSecurity => ({
    ssl: { ca },
    sasl: { mechanism: 'scram-sha-512', username: user, password },
  });
  const formatArgs = Object.entries(users).flatMap(([name, password]) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${name},password=${password}]`,
  ]);
  const pid = await launchBroker(r, libs, {
    properties,
    formatArgs,
    probe: (a) => answers(a, 2_000, clientSecurity()),
  });
  return {
    address,
    pid,
    caFile: tls.caFile,
    superUser,
    clientSecurity,
    stop: () => stop(options),
  };
}
