import { type Category, QboError } from '@qbo/qbo-client';
import type { TokenServiceError } from '@qbo/token-api';

/**
 * What each token-service failure means to a QuickBooks call, exhaustively, as TokenProvider's contract asks.
 * `auth` is kept for a connection that has no usable grant until the customer reconnects (a run that meets it
 * stops for good); not reaching the token-service is `network`; everything else is the platform's own trouble
 * (Intuit failing refreshes for a while, the app's or this service's credentials refused, a bug), which says
 * nothing about the customer's grant, so it is `server`: retried later, and over once an operator acts.
 */
const categoryOf: Record<TokenServiceError['code'], Category> = {
  unreachable: 'network',
  timeout: 'network',
  reauthorization_required: 'auth',
  connection_disconnected: 'auth',
  connection_not_found: 'auth',
  connection_conflict: 'auth',
  refresh_unavailable: 'server',
  refresh_throttled: 'server',
  app_credentials_rejected: 'server',
  unauthenticated: 'server',
  caller_not_permitted: 'server',
  internal_error: 'server',
  bad_response: 'server',
  invalid_request: 'server',
  payload_too_large: 'server',
};

/**
 * A token-service failure as the QboError the call fails with. The message is built here from the code alone
 * and no cause is kept, so nothing the token-service or the transport said can carry a token into a log line,
 * a span or a sync error row. Its HTTP status stays out too: a QboError's `status` is Intuit's.
 */
export const tokenServiceFailure = (err: TokenServiceError, realmId: string): QboError =>
  new QboError({
    category: categoryOf[err.code],
    code: err.code,
    message: `the token-service answered ${err.code} for realm ${realmId}`,
    attempts: 0,
  });
