/**
 * An Accounting API failure in Intuit's own shape (qbo-api-facts §6.1): HTTP status, Fault `type`, and
 * errors whose `code` is a string. Thrown by the domain, serialised once at the HTTP edge, and embedded as is
 * in batch item responses.
 */
export type FaultType =
  | 'ValidationFault'
  | 'SystemFault'
  | 'AuthenticationFault'
  | 'AuthorizationFault'
  | 'SERVICE';

export interface FaultError {
  Message: string;
  Detail: string;
  code: string;
  element: string;
}

export class QboFault extends Error {
  readonly status: number;
  readonly type: FaultType;
  readonly errors: readonly FaultError[];

  constructor(status: number, type: FaultType, errors: readonly FaultError[]) {
    super(errors[0]?.Message ?? 'fault');
    this.name = 'QboFault';
    this.status = status;
    this.type = type;
    this.errors = errors;
  }

  body(): { Fault: { Error: readonly FaultError[]; type: FaultType } } {
    return { Fault: { Error: this.errors, type: this.type } };
  }
}

export const isQboFault = (err: unknown): err is QboFault => err instanceof QboFault;

const validation = (code: string, Message: string, Detail: string, element = '') =>
  new QboFault(400, 'ValidationFault', [{ Message, Detail, code, element }]);

export const faults = {
  notFound: () =>
    validation(
      '610',
      'Object Not Found',
      "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    ),
  stale: () =>
    validation(
      '5010',
      'Stale Object Error',
      'Stale Object Error : You and root were working on this at the same time. root finished before you did, so your work was not saved.',
    ),
  duplicateName: () =>
    validation(
      '6240',
      'Duplicate Name Exists Error',
      'The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name.',
    ),
  required: (param: string) =>
    validation(
      '2020',
      'Required param missing, need to supply the required value for the API',
      `Required parameter ${param} is missing in the request`,
      param,
    ),
  invalidProperty: (detail: string) =>
    validation('2010', 'Request has invalid or unsupported property', detail),
  businessValidation: (detail: string) =>
    validation('6000', 'A business validation error has occurred while processing your request', detail),
  queryParse: (detail: string) => validation('4000', 'Error parsing query', `QueryParserError: ${detail}`),
  /** What a record the current minor version cannot serialise does to any page that holds it (sync-research §1.10). */
  queryProcessing: (detail: string) =>
    validation('4002', 'Error processing query', `QueryProcessingError: ${detail}`),
  queryInvalid: (detail: string) => validation('4001', 'Invalid query', `QueryValidationError: ${detail}`),
  unsupportedOperation: (operation: string) =>
    validation('500', 'Unsupported Operation', `Operation ${operation} is not supported.`),
  systemError: () =>
    new QboFault(500, 'SystemFault', [
      {
        Message: 'An application error has occurred while processing your request',
        Detail:
          'System Failure Error: An unexpected error occurred while accessing or saving your data. Please wait a few minutes and try again. If the problem persists, contact customer support.',
        code: '10000',
        element: '',
      },
    ]),
  throttled: () =>
    new QboFault(429, 'SERVICE', [
      {
        Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
        Detail: 'The request limit was reached.  Try again later',
        code: '3001',
        element: '',
      },
    ]),
  forbidden: () =>
    new QboFault(403, 'AuthorizationFault', [
      {
        Message: 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
        Detail: 'SubscriptionValidationException: Token is not valid for the given realm',
        code: '3100',
        element: '',
      },
    ]),
} as const;
