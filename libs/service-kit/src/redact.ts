export const REDACTED = '[REDACTED]';

/**
 * Field names that hold credentials, compared after lower-casing and dropping `_` and `-`, at any depth.
 * pino's own `redact` paths match a fixed depth only, which is how tokens nested in an error's response
 * body reach logs elsewhere; walking the object closes that gap.
 */
const SECRET_KEYS = new Set([
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bearertoken',
  'secret',
  'clientsecret',
  'password',
  'passwd',
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'code',
  'codeverifier',
  'apikey',
  'signature',
  'intuitsignature',
  'verifiertoken',
  'privatekey',
]);

/** Error objects carry machine codes (`ECONNRESET`, `invalid_grant`) under `code`; those stay readable. */
const ERROR_KEYS = new Set(['err', 'error', 'cause']);

const normalise = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');

export function isSecretKey(key: string): boolean {
  const k = normalise(key);
  return SECRET_KEYS.has(k) || k.endsWith('token') || k.endsWith('secret') || k.endsWith('password');
}

/** Values that look like credentials whatever field they sit in: bearer/basic headers and JWT/JWE shapes. */
const SECRET_VALUE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9._-]*/g;

export function scrubString(value: string): string {
  return value.replace(
    SECRET_VALUE,
    (match) => `${match.startsWith('eyJ') ? '' : `${match.split(/\s/)[0]} `}${REDACTED}`,
  );
}

/** A copy of `value` with secret-named fields replaced and secret-shaped strings scrubbed, cycles tolerated. */
export function redactDeep(value: unknown, inError = false, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, inError, seen));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const source: Record<string, unknown> =
    value instanceof Error
      ? { ...value, type: value.name, message: value.message, stack: value.stack }
      : (value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(source)) {
    const keepCode = inError && normalise(key) === 'code' && (typeof v === 'string' || typeof v === 'number');
    if (!keepCode && isSecretKey(key) && v !== undefined && v !== null) {
      out[key] = REDACTED;
    } else {
      out[key] = redactDeep(v, inError || ERROR_KEYS.has(key) || value instanceof Error, seen);
    }
  }
  return out;
}
