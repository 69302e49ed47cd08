import { type Category, QboError } from '@qbo/qbo-client';
import type { TokenServiceError } from '@qbo/token-api';

/**
 * What each token-service failure means to a QuickBooks call, exhaustively, as TokenProvider's contract asks:
 * not reaching the token-service is `network`; Intuit failing the refresh for a while, or the token-service
 * failing, is `server` (both retried later); every answer that no retry will change (a dead or disconnected
 * grant, an unknown connection, our own credential refused) is `auth`, and the run stops for that connection.
 */
const categoryOf: Record<TokenServiceError['code'], Category> = {
  unreachable: 'network',
  timeout: 'network',
  refresh_unavailable: 'server',
  internal_error: 'server',
  bad_response: 'server',
  reauthorization_required: 'auth',
  connection_disconnected: 'auth',
  connection_not_found: 'auth',
  connection_conflict: 'auth',
  app_credentials_rejected: 'auth',
  unauthenticated: 'auth',
  invalid_request: 'auth',
  payload_too_large: 'auth',
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
