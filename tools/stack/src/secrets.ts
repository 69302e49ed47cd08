import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The local stack's secrets: random on first start, then kept (mode 0600, in the gitignored `.local`) so a
 * restart can still open the vault it sealed before. Never for anything but this machine.
 */
export interface StackSecrets {
  /** token-service's service credential, presented by auth-service. */
  tokenServiceCredential: string;
  /** token-service's key ring, `kid:base64`. */
  tokenKeys: string;
  stateCookieSecret: string;
  /** HS256 key of the platform's org tokens (the demo mints them). */
  orgJwtSecret: string;
  webhookVerifierToken: string;
  /** The simulated Intuit app's client secret. */
  qboClientSecret: string;
}

const random = (bytes: number) => randomBytes(bytes).toString('base64url');

export async function loadStackSecrets(file: string): Promise<StackSecrets> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StackSecrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets: StackSecrets = {
    tokenServiceCredential: random(32),
    tokenKeys: `local1:${randomBytes(32).toString('base64')}`,
    stateCookieSecret: random(32),
    orgJwtSecret: random(32),
    webhookVerifierToken: random(24),
    qboClientSecret: random(24),
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
