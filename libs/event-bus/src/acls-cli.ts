import { parseArgs } from 'node:util';
import { type PlatformService, platformServices } from '@qbo/events';
import { kafkaAclsCommands, platformAcls } from './acls.js';

/**
 * Prints the platform's topic ACLs, derived from the event contract: `kafka-acls.sh` commands (default) or
 * JSON. `--prefix` is the environment's KAFKA_TOPIC_PREFIX; `--lag-reader keda` adds the autoscaler's grants for
 * the services named by `--scaled` (token-service by default, the one KEDA scales).
 */
const { values } = parseArgs({
  options: {
    prefix: { type: 'string' },
    format: { type: 'string', default: 'commands' },
    'lag-reader': { type: 'string' },
    scaled: { type: 'string', default: 'token-service' },
  },
});
const scaled = values.scaled.split(',').filter((s) => s.length > 0);
const unknown = scaled.filter((s) => !(platformServices as readonly string[]).includes(s));
if (unknown.length > 0 || !['commands', 'json'].includes(values.format)) {
  process.stderr.write(
    `usage: acls [--prefix <topic prefix>] [--format commands|json] [--lag-reader <principal>] [--scaled <service,...>]\n`,
  );
  process.exit(2);
}
const acls = platformAcls({
  prefix: values.prefix,
  ...(values['lag-reader']
    ? { lagReader: { principal: values['lag-reader'], services: scaled as PlatformService[] } }
    : {}),
});
process.stdout.write(
  values.format === 'json' ? `${JSON.stringify(acls, null, 2)}\n` : `${kafkaAclsCommands(acls).join('\n')}\n`,
);
