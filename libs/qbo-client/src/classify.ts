import { type Category, categorise, type Fault } from './errors.js';

/**
 * A batch item's fault arrives under HTTP 200; it is filed as the same fault would be on its own, with
 * SystemFaults as server failures.
 */
export function categoriseItemFault(fault: Fault): Category {
  if (fault.type === 'SystemFault') return 'server';
  if (fault.type === 'SERVICE' || fault.code === '3001') return 'rate_limit';
  if (fault.type?.toLowerCase().startsWith('authentication')) return 'auth';
  if (fault.type === 'AuthorizationFault') return 'permission';
  return categorise(400, fault);
}

/** Socket-level failure codes (Node and undici) worth another attempt; connect timeouts count as timeouts. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A fetch that threw: the request timed out (ours or the socket's) or never got an answer. The message names
 * only the failure code; undici's own messages may carry addresses and are kept out of errors.
 */
export function transportFailure(
  err: unknown,
  timedOut: boolean,
): { category: Category; code: string; message: string } {
  if (timedOut)
    return { category: 'timeout', code: 'ETIMEDOUT', message: 'QuickBooks did not answer in time' };
  const code = errorCode(err);
  if (code && TIMEOUT_CODES.has(code)) {
    return { category: 'timeout', code, message: `QuickBooks did not answer in time (${code})` };
  }
  return {
    category: 'network',
    code: code && (NETWORK_CODES.has(code) || /^[A-Z_]{3,40}$/.test(code)) ? code : 'fetch_failed',
    message: `QuickBooks could not be reached (${code ?? 'fetch failed'})`,
  };
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
