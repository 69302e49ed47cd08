import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ComposeFile } from './compose-files.js';
import { unreadVariables, variableOf } from './service-config.js';

/**
 * Every variable compose sets is one something reads: the service's config (`NAME_FILE` supplies `NAME`) or
 * the runtime (Node, the OpenTelemetry SDK). Anything else is a typo or a leftover that silently does nothing.
 */
export function checkDeclared(
  service: string,
  env: Record<string, string>,
  declared: ReadonlySet<string>,
  runtime: ReadonlySet<string>,
): string[] {
  return unreadVariables(Object.keys(env), declared, runtime).map(
    (key) => `${service}: compose sets ${key}, but the service's config declares no ${variableOf(key)}`,
  );
}

/**
 * The compose environment with each `/run/secrets/<name>` path pointed at the file the secrets script made
 * for that compose secret, so the service's own parser can read it as the container would.
 */
export function withSecretFiles(env: Record<string, string>, compose: ComposeFile, secretsDir: string) {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => {
      const secret = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
      const file = secret ? compose.secrets?.[secret]?.file : undefined;
      return [key, file ? join(secretsDir, basename(file)) : value];
    }),
  );
}

/** Fresh secrets from the project's own script, in a temporary folder: what `docker compose up` would mount. */
export function makeSecrets(root: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'compose-secrets-')), 'secrets');
  execFileSync('bash', [join(root, 'deploy', 'compose', 'make-secrets.sh'), dir], { stdio: 'pipe' });
  return dir;
}
