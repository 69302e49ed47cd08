import { faults } from '../fault.js';

export type TokenKind = 'IDENTIFIER' | 'STRING' | 'NUMBER' | 'SYMBOL' | 'EOF';

export interface Token {
  kind: TokenKind;
  /** For STRING the unescaped value; otherwise the text as written. */
  text: string;
  /** 1-based column, for Intuit-style parser messages. */
  column: number;
}

const SYMBOLS = ['<=', '>=', '!=', '<>', '=', '<', '>', '(', ')', ',', '*'];

/** `Encountered " <IDENTIFIER> "TxnDate "" at line 1, column 29.` — the shape Intuit's parser reports. */
export function encountered(token: Token): string {
  if (token.kind === 'EOF') return `Encountered "<EOF>" at line 1, column ${token.column}.`;
  const image = token.kind === 'STRING' ? `'${token.text}'` : token.text;
  return `Encountered " <${token.kind}> "${image} "" at line 1, column ${token.column}.`;
}

/**
 * Splits a query into tokens. Strings are single-quoted with `\'` for an apostrophe (qbo-api-facts §2.4);
 * identifiers may contain dots (`MetaData.LastUpdatedTime`).
 */
export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const column = i + 1;
    if (ch === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= query.length)
          throw faults.queryParse(
            `Lexical error at line 1, column ${i + 1}.  Encountered: <EOF> after : "'${value}"`,
          );
        const c = query[i] as string;
        if (c === '\\' && i + 1 < query.length) {
          value += query[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      tokens.push({ kind: 'STRING', text: value, column });
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(query.slice(i));
    if (number && (ch !== '-' || /\d/.test(query[i + 1] ?? ''))) {
      tokens.push({ kind: 'NUMBER', text: number[0], column });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(query.slice(i));
    if (ident) {
      tokens.push({ kind: 'IDENTIFIER', text: ident[0], column });
      i += ident[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => query.startsWith(s, i));
    if (!symbol) throw faults.queryParse(`Lexical error at line 1, column ${column}.  Encountered: "${ch}"`);
    tokens.push({ kind: 'SYMBOL', text: symbol, column });
    i += symbol.length;
  }
  tokens.push({ kind: 'EOF', text: '', column: query.length + 1 });
  return tokens;
}
