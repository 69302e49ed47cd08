/**
 * Builds Accounting API queries from typed parts, never by pasting user values into SQL-like text.
 * Grammar: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
 * (one entity, WHERE clauses joined by AND only, ORDERBY, 1-based STARTPOSITION, MAXRESULTS ≤ 1000).
 */
export type Operator = '=' | '<' | '>' | '<=' | '>=' | 'LIKE' | 'IN';
export type Scalar = string | number | boolean | Date;
export type Value = Scalar | readonly Scalar[];

export class QueryBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryBuildError';
  }
}

export const MAX_RESULTS = 1000;

const ENTITY = /^[A-Z][A-Za-z]{1,40}$/;
const FIELD = /^[A-Za-z][A-Za-z0-9]{0,63}(\.[A-Za-z][A-Za-z0-9]{0,63})?$/;

/** Intuit escapes an apostrophe with a backslash (`'Adam\'s Candy Shop'`), so a backslash must be escaped too. */
export function quote(value: string): string {
  // Control characters (newlines included) have no place in a value and could split the query text.
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20)) {
    throw new QueryBuildError('query values cannot contain control characters');
  }
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function literal(value: Scalar): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new QueryBuildError('numbers in queries must be finite');
    return String(value);
  }
  if (Number.isNaN(value.getTime())) throw new QueryBuildError('invalid date in query');
  return quote(value.toISOString());
}

interface Condition {
  field: string;
  op: Operator;
  value: Value;
}

export interface QueryParts {
  entity: string;
  count?: boolean;
  where?: readonly Condition[];
  orderBy?: { field: string; direction?: 'ASC' | 'DESC' };
  startPosition?: number;
  maxResults?: number;
}

function condition({ field, op, value }: Condition): string {
  if (!FIELD.test(field)) throw new QueryBuildError(`not a queryable field name: ${field}`);
  if (op === 'IN') {
    if (!Array.isArray(value) || value.length === 0) throw new QueryBuildError('IN needs a non-empty list');
    return `${field} IN (${(value as readonly Scalar[]).map(literal).join(', ')})`;
  }
  if (Array.isArray(value)) throw new QueryBuildError(`${op} takes a single value`);
  if (op === 'LIKE' && typeof value !== 'string') throw new QueryBuildError('LIKE takes a string pattern');
  return `${field} ${op} ${literal(value as Scalar)}`;
}

export function buildQuery(parts: QueryParts): string {
  if (!ENTITY.test(parts.entity)) throw new QueryBuildError(`not an entity name: ${parts.entity}`);
  const clauses = [`SELECT ${parts.count ? 'COUNT(*)' : '*'} FROM ${parts.entity}`];
  if (parts.where && parts.where.length > 0)
    clauses.push(`WHERE ${parts.where.map(condition).join(' AND ')}`);
  if (parts.orderBy) {
    if (!FIELD.test(parts.orderBy.field))
      throw new QueryBuildError(`not a sortable field name: ${parts.orderBy.field}`);
    clauses.push(`ORDERBY ${parts.orderBy.field} ${parts.orderBy.direction ?? 'ASC'}`);
  }
  if (parts.startPosition !== undefined) {
    if (!Number.isInteger(parts.startPosition) || parts.startPosition < 1) {
      throw new QueryBuildError('STARTPOSITION is 1-based');
    }
    clauses.push(`STARTPOSITION ${parts.startPosition}`);
  }
  if (parts.maxResults !== undefined) {
    if (!Number.isInteger(parts.maxResults) || parts.maxResults < 1 || parts.maxResults > MAX_RESULTS) {
      throw new QueryBuildError(`MAXRESULTS must be 1..${MAX_RESULTS}`);
    }
    clauses.push(`MAXRESULTS ${parts.maxResults}`);
  }
  return clauses.join(' ');
}
