export {
  type Category,
  categories,
  categorise,
  type Fault,
  isQboError,
  parseFault,
  QboError,
  type QboErrorDetails,
  safeMessage,
} from './errors.js';
export { createPageSizer, type PageSizer, type PageSizerOptions } from './page-size.js';
export {
  buildQuery,
  MAX_RESULTS,
  type Operator,
  QueryBuildError,
  type QueryParts,
  quote,
  type Scalar,
  type Value,
} from './query.js';
