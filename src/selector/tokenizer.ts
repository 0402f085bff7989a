// Tokenizer for Calico's selector language, mirroring libcalico-go
// lib/selector/tokenizer/tokenizer.go token for token, plus the position of every token so
// errors can point at the offending character.
//
// Calico quirks kept on purpose (selectors that Calico accepts or rejects, tern does too):
// - Whitespace is only ' ' and '\t' (a newline is an unexpected character).
// - Strings are '…' or "…", with no escapes; the other quote may appear inside.
// - Label keys are [a-zA-Z0-9_./-]+ (max 512 characters), so "projectcalico.org/namespace"
//   and "10" are keys.
// - `has(`, `all(`, `global(` need the '(' right after the word; spaces are allowed inside.
// - Right after a label only an operator may follow: ==, !=, in, not in, contains,
//   starts with, ends with (matched as prefixes, as Calico does).
import { SelectorError } from './errors.js';

export type TokenKind =
  | 'label' | 'string' | 'lbrace' | 'rbrace' | 'comma' | 'eq' | 'ne' | 'in' | 'not' | 'notIn'
  | 'contains' | 'startsWith' | 'endsWith' | 'all' | 'has' | 'lparen' | 'rparen' | 'and' | 'or'
  | 'global' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Label name (label, has) or string value (string); '' otherwise. */
  readonly value: string;
  /** 0-based index of the token's first character. */
  readonly pos: number;
}

const MAX_LABEL = 512;

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

function isIdentChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
    c === '_' || c === '.' || c === '/' || c === '-';
}

class Scanner {
  i = 0;
  readonly tokens: Token[] = [];
  constructor(readonly text: string) {}

  fail(pos: number, reason: string): never {
    throw new SelectorError(this.text, pos, reason);
  }
  skipWs(): void {
    while (isWs(this.text[this.i])) this.i++;
  }
  startsWith(word: string): boolean {
    return this.text.startsWith(word, this.i);
  }
  push(kind: TokenKind, pos: number, value = ''): void {
    this.tokens.push({ kind, value, pos });
  }
  /** Reads a label key at the cursor; '' when none. */
  ident(): string {
    let j = this.i;
    while (isIdentChar(this.text[j])) j++;
    const id = this.text.slice(this.i, j);
    if (id.length > MAX_LABEL) this.fail(this.i, `label key longer than ${MAX_LABEL} characters`);
    return id;
  }
}

export function tokenize(text: string): Token[] {
  const s = new Scanner(text);
  for (;;) {
    s.skipWs();
    if (s.i >= text.length) {
      s.push('eof', text.length);
      return s.tokens;
    }
    scanOne(s);
  }
}

function scanOne(s: Scanner): void {
  const start = s.i;
  const c = s.text[start];
  const next = s.text[start + 1];
  switch (c) {
    case '(': s.push('lparen', start); s.i++; return;
    case ')': s.push('rparen', start); s.i++; return;
    case '{': s.push('lbrace', start); s.i++; return;
    case '}': s.push('rbrace', start); s.i++; return;
    case ',': s.push('comma', start); s.i++; return;
    case '"':
    case "'": {
      const end = s.text.indexOf(c, start + 1);
      if (end < 0) s.fail(start, 'unterminated string');
      s.push('string', start, s.text.slice(start + 1, end));
      s.i = end + 1;
      return;
    }
    case '=':
      if (next !== '=') s.fail(start, "expected '=='");
      s.push('eq', start); s.i += 2; return;
    case '!':
      if (next === '=') { s.push('ne', start); s.i += 2; return; }
      s.push('not', start); s.i++; return;
    case '&':
      if (next !== '&') s.fail(start, "expected '&&'");
      s.push('and', start); s.i += 2; return;
    case '|':
      if (next !== '|') s.fail(start, "expected '||'");
      s.push('or', start); s.i += 2; return;
    default:
      if (s.tokens[s.tokens.length - 1]?.kind === 'label') scanOperator(s);
      else scanWordOrLabel(s);
  }
}

/** After a label: in, not in, contains, starts with, ends with. */
function scanOperator(s: Scanner): void {
  const start = s.i;
  const label = s.tokens[s.tokens.length - 1]?.value ?? '';
  const expecting = `unexpected characters after label '${label}', expected an operator (==, !=, in, not in, contains, starts with, ends with)`;
  const twoWords = (first: string, second: string, kind: TokenKind): void => {
    s.i += first.length;
    s.skipWs();
    if (!s.startsWith(second)) s.fail(s.i, `expected '${second}' after '${first}'`);
    s.i += second.length;
    s.push(kind, start);
  };
  if (s.startsWith('contains')) { s.i += 'contains'.length; s.push('contains', start); }
  else if (s.startsWith('starts')) twoWords('starts', 'with', 'startsWith');
  else if (s.startsWith('ends')) twoWords('ends', 'with', 'endsWith');
  else if (s.startsWith('not')) twoWords('not', 'in', 'notIn');
  else if (s.startsWith('in')) { s.i += 2; s.push('in', start); }
  else s.fail(start, expecting);
}

/** has(k), all(), global(), or a label key. */
function scanWordOrLabel(s: Scanner): void {
  const start = s.i;
  if (s.startsWith('has(')) {
    s.i += 4;
    s.skipWs();
    const id = s.ident();
    if (id === '') s.fail(s.i, 'expected a label key in has(…)');
    s.i += id.length;
    s.skipWs();
    if (s.text[s.i] !== ')') s.fail(s.i, "expected ')' to close has(");
    s.i++;
    s.push('has', start, id);
    return;
  }
  for (const [word, kind] of [['all(', 'all'], ['global(', 'global']] as const) {
    if (!s.startsWith(word)) continue;
    s.i += word.length;
    s.skipWs();
    if (s.text[s.i] !== ')') s.fail(s.i, `expected ')' to close ${word}`);
    s.i++;
    s.push(kind, start);
    return;
  }
  const id = s.ident();
  if (id === '') s.fail(start, `unexpected character ${JSON.stringify(s.text[start])}`);
  s.i += id.length;
  s.push('label', start, id);
}
