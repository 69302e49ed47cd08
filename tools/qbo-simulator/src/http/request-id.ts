import type { Core } from '../core.js';
import type { StoredResponse } from '../domain/company.js';
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
  run: () => Promise<StoredResponse>,
): Promise<Response> {
  const company = c.get('company');
  const requestId = c.req.query('requestid');
  if (requestId !== undefined && requestId.length > maxLength) {
    const fault = faults.businessValidation(
      `Business Validation Error: You cannot enter more than ${maxLength} characters in the request_id field. Please shorten the request_id.`,
    );
    return sendJson(c, fault.status, faultJson(fault, core.clock.now()));
  }
  if (requestId === undefined) return send(c, await answerOf(core, run));
  // The id is claimed before the first await, so a concurrent request with the same id waits for this
  // one's answer instead of running again (check and store never straddle an await).
  const pending = company.requests.get(requestId);
  if (pending) return send(c, await pending);
  const answer = answerOf(core, run);
  company.requests.set(requestId, answer);
  answer.catch(() => company.requests.delete(requestId));
  return send(c, await answer);
}

const send = (c: ApiContext, answer: StoredResponse) => sendJson(c, answer.status, answer.body);

/** Runs the request once; an Intuit fault is an answer too, and is replayed like one. */
async function answerOf(core: Core, run: () => Promise<StoredResponse>): Promise<StoredResponse> {
  try {
    return await run();
  } catch (err) {
    if (!isQboFault(err)) throw err;
    return { status: err.status, body: faultJson(err, core.clock.now()) };
  }
}
