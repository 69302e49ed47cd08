import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The local stack's secrets: random on first start, then kept (mode 0600, in the gitignored `.local`) so a
 * restart can still open the vault it sealed before. Never for anything but this machine.
 */
export interface StackSecrets {
  /** auth-service's own token-service credential (store and revoke grants only). */
  authServiceCredential: string;
  /** sync-service's own token-service credential (read and refresh tokens only). */
  syncServiceCredential: string;
  /** The operator's token-service credential (status only): what the demo reads the vault's state with. */
  operatorCredential: string;
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

const fresh = (): StackSecrets => ({
  authServiceCredential: random(32),
  syncServiceCredential: random(32),
  operatorCredential: random(32),
  tokenKeys: `local1:${randomBytes(32).toString('base64')}`,
  stateCookieSecret: random(32),
  orgJwtSecret: random(32),
  webhookVerifierToken: random(24),
  qboClientSecret: random(24),
});

/** The kept secrets; one the file lacks (a secret added since it was written) is made now and kept too. */
export async function loadStackSecrets(file: string): Promise<StackSecrets> {
  let kept: Partial<StackSecrets> = {};
  try {
    kept = JSON.parse(await readFile(file, 'utf8')) as Partial<StackSecrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets = { ...fresh(), ...kept };
  if (Object.keys(secrets).every((key) => key in kept)) return secrets;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
