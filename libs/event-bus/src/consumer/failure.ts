/**
 * How a failure is described outside the process (DLQ headers, metrics): its type and code only. Messages
 * are left out on purpose: upstream errors can quote request bodies, and with them tokens.
 */
export interface FailureSummary {
  type: string;
  code: string;
  retryable: boolean;
}

const SAFE_TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const SAFE_CODE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function summarize(err: unknown): FailureSummary {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    code?: unknown;
    retryable?: unknown;
  };
  const type = typeof e.name === 'string' && SAFE_TYPE.test(e.name) ? e.name : 'Error';
  const code = typeof e.code === 'string' && SAFE_CODE.test(e.code) ? e.code : 'unclassified';
  // Unknown failures are retried: a bounded number of attempts costs little, dead-lettering a good event costs a replay.
  return { type, code, retryable: e.retryable !== false };
}

/** Socket errors: the peer (database, cache, broker) is unreachable, whatever the message. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** Postgres SQLSTATEs of a server going away: class 08 (connection exception), admin/crash shutdown, starting up. */
const PG_OUTAGE = /^(08[0-9A-Z]{3}|57P0[1-3])$/;
/** What pg and ioredis say when the connection dies under a query, without a code. */
const LOST_CONNECTION =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed)/;

/**
 * Whether a failure is an outage of what the handler depends on (a database or cache unreachable, the schema
 * registry down) rather than anything about the message. Such a failure is waited out, however long: dead-lettering
 * good events because Postgres restarted would lose them to a manual replay. The error and its causes are read.
 */
export function isOutage(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { code, message, name, cause } = e as Record<string, unknown>;
    if (code === 'registry_unavailable') return true;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_OUTAGE.test(code))) return true;
    if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    e = cause;
  }
  return false;
}

/**
 * Whether kafkajs says trying again may succeed: the error is marked retriable, or it is the give-up error
 * of a retry loop (or a connection error) whose last cause was.
 */
export function isRetriableKafkaError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { retriable, name, originalError, cause } = e as Record<string, unknown>;
    if (retriable === true || name === 'KafkaJSConnectionError') return true;
    e = originalError ?? cause;
  }
  return false;
}
