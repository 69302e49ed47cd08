import { parseArgs } from 'node:util';
import type { SimulatorOptions } from './options.js';

export const USAGE = `usage: qbo-simulator [options]
  --port N                 listen port (default 4010; 0 = any free port)
  --host H                 listen address (default 127.0.0.1)
  --public-url URL         base URL clients use, when behind a proxy
  --seed N                 seed for deterministic data (default 1)
  --companies N            companies to create (default 1)
  --records N              records per company, split across entities (default 1000)
  --webhook URL            webhook endpoint (repeatable)
  --webhook-format F       legacy | cloudevents | both (default legacy)
  --verifier-token T       webhook verifier token (default: QBO_SIM_VERIFIER_TOKEN or a fixed dev value)
  --webhook-time-scale X   multiply webhook retry delays (e.g. 0.001 for tests)
  --client-id ID           OAuth client id (default sim-client-id)
  --client-secret S        OAuth client secret (default: QBO_SIM_CLIENT_SECRET or sim-client-secret)
  --redirect-uri URI       allowed redirect URI (repeatable; any when none)
  --consent MODE           auto | page (default page)
  --control                serve the control API under /_sim
  --no-limits              disable Intuit's rate limits (benchmarks)
  --clock-start ISO        start the simulator clock at this instant`;

export class UsageError extends Error {}

const int = (value: string | undefined, name: string, fallback: number) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer`);
  return n;
};

/** Turns the command line (and two secret env vars) into simulator options. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SimulatorOptions {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const format = values['webhook-format'] ?? 'legacy';
  if (format !== 'legacy' && format !== 'cloudevents' && format !== 'both') {
    throw new UsageError('--webhook-format must be legacy, cloudevents or both');
  }
  const consent = values.consent ?? 'page';
  if (consent !== 'auto' && consent !== 'page') throw new UsageError('--consent must be auto or page');
  const timeScale = values['webhook-time-scale'] === undefined ? 1 : Number(values['webhook-time-scale']);
  if (!(timeScale > 0)) throw new UsageError('--webhook-time-scale must be a positive number');
  const verifierToken = values['verifier-token'] ?? env.QBO_SIM_VERIFIER_TOKEN ?? 'sim-verifier-token';
  const clockStart = values['clock-start'];
  if (clockStart !== undefined && Number.isNaN(Date.parse(clockStart)))
    throw new UsageError('--clock-start must be an ISO date');
  return {
    host: values.host ?? '127.0.0.1',
    port: int(values.port, 'port', 4010),
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
    seed: {
      seed: int(values.seed, 'seed', 1),
      companies: int(values.companies, 'companies', 1),
      records: int(values.records, 'records', 1000),
    },
    apps: [
      {
        clientId: values['client-id'] ?? 'sim-client-id',
        clientSecret: values['client-secret'] ?? env.QBO_SIM_CLIENT_SECRET ?? 'sim-client-secret',
        redirectUris: values['redirect-uri'] ?? [],
      },
    ],
    webhooks: {
      timeScale,
      targets: (values.webhook ?? []).map((url) => ({ url, format, verifierToken })),
    },
    consent,
    control: values.control ?? false,
    limits: { enabled: !(values['no-limits'] ?? false) },
    ...(clockStart ? { clock: { start: clockStart } } : {}),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      seed: { type: 'string' },
      companies: { type: 'string' },
      records: { type: 'string' },
      webhook: { type: 'string', multiple: true },
      'webhook-format': { type: 'string' },
      'verifier-token': { type: 'string' },
      'webhook-time-scale': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      consent: { type: 'string' },
      control: { type: 'boolean' },
      'no-limits': { type: 'boolean' },
      'clock-start': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}

export const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');
