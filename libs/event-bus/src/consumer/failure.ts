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
