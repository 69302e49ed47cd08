import { type ComposeFile, dependenciesOf, environmentOf, secretNamesOf } from './compose-files.js';

// The compose broker's security, checked from its server.properties, its start script and the compose file:
// clients reach it only over SASL_SSL, each as its own SCRAM user that the broker was formatted with.

/** A `.properties` file's keys and values (no continuation lines: the broker's file has none). */
export function parseProperties(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line): [string, string] => {
      const at = line.indexOf('=');
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    });
  return new Map(entries);
}

export interface Listener {
  name: string;
  protocol: string;
  port: string;
}

/** The broker's listeners with their security protocols (`listener.security.protocol.map`). */
export function listenersOf(props: ReadonlyMap<string, string>): Listener[] {
  const protocols = new Map(
    (props.get('listener.security.protocol.map') ?? '')
      .split(',')
      .map((e) => e.split(':') as [string, string]),
  );
  return (props.get('listeners') ?? '')
    .split(',')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [name = '', rest = ''] = l.split('://');
      // Without a map entry, a listener's name is its protocol.
      return { name, protocol: protocols.get(name) ?? name, port: rest.split(':').at(-1) ?? '' };
    });
}

/**
 * No plaintext anywhere: clients' listeners are SASL_SSL with SCRAM, the controller's is TLS that demands the
 * broker's own certificate, and only SASL_SSL listeners are published; the authorizer denies what no ACL
 * allows, and the admin is a super user.
 */
export function checkBrokerSecurity(
  props: ReadonlyMap<string, string>,
  compose: ComposeFile,
  broker: string,
) {
  const problems: string[] = [];
  const controllers = new Set((props.get('controller.listener.names') ?? '').split(','));
  const listeners = listenersOf(props);
  for (const l of listeners) {
    if (controllers.has(l.name)) {
      if (l.protocol !== 'SSL') problems.push(`controller listener ${l.name} is ${l.protocol}, not SSL`);
      if (props.get(`listener.name.${l.name.toLowerCase()}.ssl.client.auth`) !== 'required')
        problems.push(`controller listener ${l.name} must require a client certificate`);
    } else if (l.protocol !== 'SASL_SSL') {
      problems.push(`listener ${l.name} is ${l.protocol}: clients must use SASL_SSL`);
    }
  }
  const interBroker = listeners.find((l) => l.name === props.get('inter.broker.listener.name'));
  if (interBroker?.protocol !== 'SASL_SSL')
    problems.push('inter.broker.listener.name must be a SASL_SSL listener');
  const mechanisms = (props.get('sasl.enabled.mechanisms') ?? '').split(',');
  if (!mechanisms.includes('SCRAM-SHA-512') || mechanisms.some((m) => !m.startsWith('SCRAM-')))
    problems.push(`sasl.enabled.mechanisms must be SCRAM-SHA-512 (SCRAM only), not ${mechanisms.join(',')}`);
  if (props.get('authorizer.class.name') !== 'org.apache.kafka.metadata.authorizer.StandardAuthorizer')
    problems.push('authorizer.class.name must be the StandardAuthorizer');
  if (props.get('allow.everyone.if.no.acl.found') !== 'false')
    problems.push('allow.everyone.if.no.acl.found must be false (deny by default)');
  if (!(props.get('super.users') ?? '').split(';').includes('User:admin'))
    problems.push('super.users must include User:admin');
  const secured = new Set(listeners.filter((l) => l.protocol === 'SASL_SSL').map((l) => l.port));
  for (const port of compose.services[broker]?.ports ?? []) {
    const target = typeof port === 'object' ? String(port.target) : String(port).split(':').at(-1);
    if (!secured.has(target?.split('/')[0] ?? ''))
      problems.push(`${broker} publishes port ${target}, which is not a SASL_SSL listener`);
  }
  return problems;
}

/** Services that talk to the broker: those that set KAFKA_BROKERS. */
export const kafkaClientsOf = (compose: ComposeFile) =>
  Object.entries(compose.services)
    .filter(([, s]) => environmentOf(s).KAFKA_BROKERS !== undefined)
    .map(([name]) => name);

/** The SCRAM users the start script formats the storage with: its `users=(…)` line. */
export const scramUsersOf = (startScript: string) =>
  /^users=\(([^)]*)\)/m.exec(startScript)?.[1]?.trim().split(/\s+/) ?? [];

/** The compose secret that holds a Kafka user's password, as make-secrets.sh and the start script name it. */
export const passwordSecretOf = (user: string) => `kafka_password_${user.replaceAll('-', '_')}`;

/**
 * Every client uses TLS (verified against the stack's CA) and SCRAM-SHA-512 as its own user, a user the broker
 * was formatted with, with that user's password file; it reaches a SASL_SSL listener by the address the
 * broker advertises; the services' user is their own name (the contract's ACL principal), and each waits for
 * `setup` (topics and ACLs) to finish.
 */
export function checkKafkaClients(
  compose: ComposeFile,
  props: ReadonlyMap<string, string>,
  scramUsers: readonly string[],
  { services, setup }: { services: readonly string[]; setup: string },
): string[] {
  const problems: string[] = [];
  const secured = new Set(
    (props.get('advertised.listeners') ?? '')
      .split(',')
      .filter((a) =>
        listenersOf(props).some((l) => a.startsWith(`${l.name}://`) && l.protocol === 'SASL_SSL'),
      )
      .map((a) => a.split('://')[1]),
  );
  const users = new Map<string, string>();
  const clients = kafkaClientsOf(compose);
  for (const name of services)
    if (!clients.includes(name)) problems.push(`${name}: sets no KAFKA_BROKERS, so it is not checked`);
  for (const name of clients) {
    const s = compose.services[name];
    if (!s) continue;
    const env = environmentOf(s);
    const mounted = new Set(secretNamesOf(s));
    for (const address of (env.KAFKA_BROKERS ?? '').split(','))
      if (!secured.has(address))
        problems.push(`${name}: KAFKA_BROKERS ${address} is not an advertised SASL_SSL listener`);
    if (env.KAFKA_SSL !== 'true') problems.push(`${name}: KAFKA_SSL must be true`);
    if (env.KAFKA_SASL_MECHANISM?.toUpperCase() !== 'SCRAM-SHA-512')
      problems.push(`${name}: KAFKA_SASL_MECHANISM must be SCRAM-SHA-512`);
    const user = env.KAFKA_SASL_USERNAME;
    if (!user) problems.push(`${name}: KAFKA_SASL_USERNAME is not set`);
    else {
      if (services.includes(name) && user !== name)
        problems.push(`${name}: KAFKA_SASL_USERNAME is ${user}, not its own (${name}), whom the ACLs name`);
      const other = users.get(user);
      if (other) problems.push(`${name}: shares Kafka user ${user} with ${other}`);
      users.set(user, name);
      if (!scramUsers.includes(user))
        problems.push(`${name}: Kafka user ${user} is not made by the broker's start script`);
      if (env.KAFKA_SASL_PASSWORD_FILE !== `/run/secrets/${passwordSecretOf(user)}`)
        problems.push(`${name}: KAFKA_SASL_PASSWORD_FILE must be /run/secrets/${passwordSecretOf(user)}`);
    }
    const ca = /^\/run\/secrets\/(.+)$/.exec(env.KAFKA_SSL_CA_FILE ?? '')?.[1];
    if (!ca || !mounted.has(ca)) problems.push(`${name}: KAFKA_SSL_CA_FILE must name a mounted secret`);
    if (name !== setup && dependenciesOf(s)[setup] !== 'service_completed_successfully')
      problems.push(`${name}: must wait for ${setup} to complete successfully`);
  }
  return problems;
}

/** The broker mounts the password of every user its start script formats, and the TLS files it reads. */
export function checkBrokerSecrets(
  compose: ComposeFile,
  props: ReadonlyMap<string, string>,
  scramUsers: readonly string[],
  broker: string,
): string[] {
  const mounted = new Set(secretNamesOf(compose.services[broker] ?? {}));
  const files = ['ssl.keystore.location', 'ssl.truststore.location'].map((k) => props.get(k) ?? '');
  return [
    ...scramUsers.map(passwordSecretOf),
    ...files.map((f) => /^\/run\/secrets\/(.+)$/.exec(f)?.[1] ?? f),
  ]
    .filter((secret) => !mounted.has(secret))
    .map((secret) => `${broker}: secret ${secret} is not mounted`);
}

/**
 * The lag exporter (kafka_exporter takes flags, not our variables): TLS against a mounted CA, SCRAM-SHA-512 as a
 * user the broker knows, with that user's password file, on a SASL_SSL listener; it waits for `setup`, which
 * grants that user (`KAFKA_LAG_READER`) describe on groups and topics.
 */
export function checkLagExporter(
  compose: ComposeFile,
  props: ReadonlyMap<string, string>,
  scramUsers: readonly string[],
  { exporter, setup }: { exporter: string; setup: string },
): string[] {
  const s = compose.services[exporter];
  if (!s) return [`${exporter} is not in the compose file`];
  const problems: string[] = [];
  const command = [s.entrypoint ?? [], s.command ?? []].flat().join(' ');
  const flag = (name: string) => new RegExp(`--${name.replace('.', '\\.')}(?:=(\\S+))?`).exec(command);
  for (const f of ['tls.enabled', 'sasl.enabled'])
    if (!flag(f)) problems.push(`${exporter}: --${f} is not set`);
  if (flag('sasl.mechanism')?.[1] !== 'scram-sha512')
    problems.push(`${exporter}: --sasl.mechanism must be scram-sha512`);
  const ca = /^\/run\/secrets\/(.+)$/.exec(flag('tls.ca-file')?.[1] ?? '')?.[1];
  if (!ca || !secretNamesOf(s).includes(ca))
    problems.push(`${exporter}: --tls.ca-file must name a mounted secret`);
  const user = flag('sasl.username')?.[1] ?? '';
  if (!scramUsers.includes(user))
    problems.push(`${exporter}: user ${user} is not made by the broker's start script`);
  if (
    !command.includes(`/run/secrets/${passwordSecretOf(user)}`) ||
    !secretNamesOf(s).includes(passwordSecretOf(user))
  )
    problems.push(`${exporter}: must read its password from the mounted secret ${passwordSecretOf(user)}`);
  const server = flag('kafka.server')?.[1] ?? '';
  const port = server.split(':').at(-1);
  if (
    !server.startsWith('kafka:') ||
    !listenersOf(props).some((l) => l.port === port && l.protocol === 'SASL_SSL')
  )
    problems.push(`${exporter}: --kafka.server ${server} is not a SASL_SSL listener`);
  const setupService = compose.services[setup];
  if (!setupService || environmentOf(setupService).KAFKA_LAG_READER !== user)
    problems.push(`${setup}: KAFKA_LAG_READER must be ${exporter}'s user ${user}, or it reads no lag`);
  if (dependenciesOf(s)[setup] !== 'service_completed_successfully')
    problems.push(`${exporter}: must wait for ${setup} to complete successfully`);
  return problems;
}

/**
 * The broker runs the files these checks read: its command is the start script in the folder mounted from
 * `folder` (read-only), and that script starts from the server.properties beside it.
 */
export function checkBrokerStart(compose: ComposeFile, startScript: string, broker: string, folder: string) {
  const s = compose.services[broker];
  if (!s) return [`${broker} is not in the compose file`];
  const mount = (s.volumes ?? [])
    .flatMap((v) => (typeof v === 'string' ? [v.split(':')] : []))
    .find(([source, , mode]) => source === folder && mode === 'ro')?.[1];
  if (!mount) return [`${broker}: ${folder} must be mounted read-only`];
  const problems: string[] = [];
  const command = [s.entrypoint ?? [], s.command ?? []].flat();
  if (!command.includes(`${mount}/start.sh`)) problems.push(`${broker}: must run ${mount}/start.sh`);
  if (!startScript.includes(`${mount}/server.properties`))
    problems.push(`${broker}: the start script must read ${mount}/server.properties`);
  return problems;
}
