import { formatPacificDate } from '../../qbo-time.js';
import { faults } from '../fault.js';
import { encountered, type Token, tokenize } from './tokenize.js';

export type Operator = '=' | '<' | '>' | '<=' | '>=' | 'IN' | 'LIKE';

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'boolean'; value: boolean };

export interface Condition {
  field: string;
  op: Operator;
  values: Literal[];
}

export interface ParsedQuery {
  entity: string;
  select: { kind: 'all' } | { kind: 'count' } | { kind: 'fields'; fields: string[] };
  where: Condition[];
  orderBy: { field: string; desc: boolean }[];
  startPosition: number | undefined;
  maxResults: number | undefined;
}

const OPERATORS = new Set(['=', '<', '>', '<=', '>=']);

/**
 * Intuit's query language (qbo-api-facts §2.4): one entity, `*`, `COUNT(*)` or a field list, conditions
 * joined by AND only, ORDERBY (or ORDER BY), STARTPOSITION and MAXRESULTS. Keywords are case-insensitive.
 */
export function parseQuery(text: string, now: number = Date.now()): ParsedQuery {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const isWord = (t: Token, word: string) => t.kind === 'IDENTIFIER' && t.text.toUpperCase() === word;
  const fail = (t: Token = peek()) => faults.queryParse(encountered(t));
  const expectWord = (word: string) => {
    const t = next();
    if (!isWord(t, word)) throw fail(t);
  };
  const expectSymbol = (symbol: string) => {
    const t = next();
    if (t.kind !== 'SYMBOL' || t.text !== symbol) throw fail(t);
  };
  const identifier = () => {
    const t = next();
    if (t.kind !== 'IDENTIFIER') throw fail(t);
    return t.text;
  };
  // STARTPOSITION and MAXRESULTS take an unsigned integer: `-1` is a parse error at the number.
  const integer = () => {
    const t = next();
    if (t.kind !== 'NUMBER' || !/^\d+$/.test(t.text)) throw fail(t);
    return Number(t.text);
  };
  const literal = (): Literal => {
    const t = next();
    if (t.kind === 'STRING') return { kind: 'string', value: t.text };
    if (t.kind === 'NUMBER') return { kind: 'number', value: Number(t.text), text: t.text };
    if (isWord(t, 'TRUE') || isWord(t, 'FALSE')) return { kind: 'boolean', value: isWord(t, 'TRUE') };
    // CURRENT_DATE is today in the company's time zone (US-Pacific here, as MetaData is), as a date.
    if (isWord(t, 'CURRENT_DATE')) return { kind: 'string', value: formatPacificDate(now) };
    throw fail(t);
  };

  expectWord('SELECT');
  let select: ParsedQuery['select'];
  if (peek().kind === 'SYMBOL' && peek().text === '*') {
    next();
    select = { kind: 'all' };
  } else if (isWord(peek(), 'COUNT') && tokens[pos + 1]?.text === '(') {
    next();
    expectSymbol('(');
    expectSymbol('*');
    expectSymbol(')');
    select = { kind: 'count' };
  } else {
    const fields = [identifier()];
    while (peek().kind === 'SYMBOL' && peek().text === ',') {
      next();
      fields.push(identifier());
    }
    select = { kind: 'fields', fields };
  }
  expectWord('FROM');
  const entity = identifier();

  const where: Condition[] = [];
  if (isWord(peek(), 'WHERE')) {
    next();
    for (;;) {
      const field = identifier();
      const t = next();
      let condition: Condition;
      if (t.kind === 'SYMBOL' && OPERATORS.has(t.text)) {
        condition = { field, op: t.text as Operator, values: [literal()] };
      } else if (isWord(t, 'IN')) {
        expectSymbol('(');
        const values = [literal()];
        while (peek().kind === 'SYMBOL' && peek().text === ',') {
          next();
          values.push(literal());
        }
        expectSymbol(')');
        condition = { field, op: 'IN', values };
      } else if (isWord(t, 'LIKE')) {
        const value = literal();
        if (value.kind !== 'string') throw fail(tokens[pos - 1]);
        condition = { field, op: 'LIKE', values: [value] };
      } else {
        throw fail(t);
      }
      where.push(condition);
      if (!isWord(peek(), 'AND')) break;
      next();
    }
  }

  const orderBy: ParsedQuery['orderBy'] = [];
  if (isWord(peek(), 'ORDERBY') || isWord(peek(), 'ORDER')) {
    if (isWord(next(), 'ORDER')) expectWord('BY');
    for (;;) {
      const field = identifier();
      let desc = false;
      if (isWord(peek(), 'ASC') || isWord(peek(), 'DESC')) desc = isWord(next(), 'DESC');
      orderBy.push({ field, desc });
      if (!(peek().kind === 'SYMBOL' && peek().text === ',')) break;
      next();
    }
  }

  let startPosition: number | undefined;
  let maxResults: number | undefined;
  for (;;) {
    if (startPosition === undefined && isWord(peek(), 'STARTPOSITION')) {
      next();
      startPosition = integer();
    } else if (maxResults === undefined && isWord(peek(), 'MAXRESULTS')) {
      next();
      maxResults = integer();
    } else {
      break;
    }
  }
  if (peek().kind !== 'EOF') throw fail();
  return { entity, select, where, orderBy, startPosition, maxResults };
}
