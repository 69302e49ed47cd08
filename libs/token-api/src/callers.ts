import { routes } from './contract.js';

/**
 * Who may call what, declared once: the token-service enforces this table on every route and the README
 * prints it. Each caller has its own credentials (`TOKEN_API_CALLERS` at the token-service), so one that
 * leaks gives away only its own operations: auth-service, which faces the internet, can hand a grant over and
 * revoke one, but never read a token or make the token-service call Intuit; sync-service can read and
 * refresh tokens, but never plant a grant or revoke one. `operator` is for people and probes: status only,
 * which holds no secret.
 */
export const tokenApiCallers = ['auth-service', 'sync-service', 'operator'] as const;
export type TokenApiCaller = (typeof tokenApiCallers)[number];

export const tokenApiOperations = {
  store: { method: 'PUT', route: routes.credentials, callers: ['auth-service'] },
  accessToken: { method: 'GET', route: routes.accessToken, callers: ['sync-service'] },
  refresh: { method: 'POST', route: routes.refresh, callers: ['sync-service'] },
  status: { method: 'GET', route: routes.status, callers: ['operator'] },
  revoke: { method: 'POST', route: routes.revoke, callers: ['auth-service'] },
} as const satisfies Record<
  string,
  { method: 'GET' | 'PUT' | 'POST'; route: string; callers: readonly TokenApiCaller[] }
>;
export type TokenApiOperation = keyof typeof tokenApiOperations;

/** Whether `caller` may run `operation`. */
export const mayCall = (caller: TokenApiCaller, operation: TokenApiOperation): boolean =>
  (tokenApiOperations[operation].callers as readonly TokenApiCaller[]).includes(caller);

/** The operations a caller may run, for logs and docs. */
export const operationsOf = (caller: TokenApiCaller): TokenApiOperation[] =>
  (Object.keys(tokenApiOperations) as TokenApiOperation[]).filter((op) => mayCall(caller, op));

/** Shortest credential accepted: long enough that guessing one is out of the question. */
export const MIN_CREDENTIAL_LENGTH = 16;

/**
 * Reads the token-service's callers, `caller=secret[,secret…];caller=secret…` (several secrets during a
 * rotation). Every caller named must be one of `tokenApiCallers`, at most once, and no secret may serve two
 * callers. Throws a list of problems that name callers, never a secret.
 */
export function parseTokenApiCallers(spec: string): Map<TokenApiCaller, string[]> {
  const callers = new Map<TokenApiCaller, string[]>();
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const entry of spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = (eq > 0 ? entry.slice(0, eq) : '').trim();
    if (!(tokenApiCallers as readonly string[]).includes(name)) {
      problems.push(
        eq > 0 && /^[a-z-]{1,40}$/.test(name)
          ? `unknown caller ${name} (one of ${tokenApiCallers.join(', ')})`
          : 'each entry must be written caller=secret[,secret]',
      );
      continue;
    }
    const caller = name as TokenApiCaller;
    if (callers.has(caller)) problems.push(`${caller} appears twice`);
    const secrets = entry
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (secrets.length === 0) problems.push(`${caller} has no credential`);
    for (const secret of secrets) {
      if (secret.length < MIN_CREDENTIAL_LENGTH || !/^[\x21-\x7e]+$/.test(secret))
        problems.push(
          `each credential of ${caller} must be at least ${MIN_CREDENTIAL_LENGTH} printable characters`,
        );
      const other = owner.get(secret);
      if (other !== undefined && other !== caller)
        problems.push(`${caller} and ${other} share a credential; each caller needs its own`);
      owner.set(secret, caller);
    }
    callers.set(caller, [...(callers.get(caller) ?? []), ...secrets]);
  }
  if (callers.size === 0 && problems.length === 0) problems.push('names no caller');
  if (problems.length > 0) throw new TokenApiCallersError([...new Set(problems)]);
  return callers;
}

export class TokenApiCallersError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'TokenApiCallersError';
  }
}
