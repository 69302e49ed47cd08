import type { Core } from '../core.js';
import { faults, isQboFault } from '../domain/fault.js';
import type { ApiContext } from './env.js';
import { faultJson, sendJson } from './respond.js';

/**
 * `requestid` idempotency (qbo-api-facts §4.3): a request id already seen in this company gets the original
 * answer — same status, same bytes — without running again. Ids are at most 50 characters (36 for batch).
 */
export async function idempotent(
  c: ApiContext,
  core: Core,
  maxLength: number,
  run: () => Promise<{ status: number; body: string }>,
): Promise<Response> {
  const company = c.get('company');
  const requestId = c.req.query('requestid');
  if (requestId !== undefined && requestId.length > maxLength) {
    const fault = faults.businessValidation(
      `Business Validation Error: You cannot enter more than ${maxLength} characters in the request_id field. Please shorten the request_id.`,
    );
    return sendJson(c, fault.status, faultJson(fault, core.clock.now()));
  }
  const stored = requestId === undefined ? undefined : company.requests.get(requestId);
  if (stored) return sendJson(c, stored.status, stored.body);
  let answer: { status: number; body: string };
  try {
    answer = await run();
  } catch (err) {
    if (!isQboFault(err)) throw err;
    answer = { status: err.status, body: faultJson(err, core.clock.now()) };
  }
  if (requestId !== undefined) company.requests.set(requestId, answer);
  return sendJson(c, answer.status, answer.body);
}
