// Recursive-descent parser for Calico selectors, same grammar and precedence as
// libcalico-go lib/selector/parser/parser.go:
//
//   selector   := <empty> | or EOF                 (empty or blank text = all())
//   or         := and ( '||' and )*                 ('||' binds loosest)
//   and        := operation ( '&&' operation )*
//   operation  := '!'* ( has(k) | all() | global() | '(' or ')'
//                      | k ('=='|'!='|contains|starts with|ends with) STRING
//                      | k ('in'|'not in') '{' [ STRING (',' STRING)* [','] ] '}' )
//
// Leading '!'s collapse to one negation or none (Calico does the same), so "!!has(a)"
// prints as "has(a)". A set may be empty and may end with a trailing comma, as in Calico.
//
// Parentheses nest at most MAX_NESTING deep; deeper is a SelectorError at the '(' past the
// limit. Calico (Go, growable stacks) has no limit; here the parser, evaluate() and
// canonical() recurse once or twice per level, so the limit keeps all three far inside
// Node's stack wherever they are called from, instead of a RangeError whose depth depends
// on the caller. '!' runs and && / || chains are loops and have no limit.
import { toStringSet, type SelectorNode } from './ast.js';
import { SelectorError } from './errors.js';
import { tokenize, type Token, type TokenKind } from './tokenizer.js';

const VALUE_OPS: Partial<Record<TokenKind, 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'>> = {
  eq: 'eq', ne: 'ne', contains: 'contains', startsWith: 'startsWith', endsWith: 'endsWith',
};

const DESCRIBE: Record<TokenKind, string> = {
  label: 'label', string: 'string', lbrace: "'{'", rbrace: "'}'", comma: "','", eq: "'=='", ne: "'!='",
  in: "'in'", not: "'!'", notIn: "'not in'", contains: "'contains'", startsWith: "'starts with'",
  endsWith: "'ends with'", all: "'all()'", has: "'has()'", lparen: "'('", rparen: "')'", and: "'&&'",
  or: "'||'", global: "'global()'", eof: 'end of selector',
};

function describe(t: Token): string {
  if (t.kind === 'label') return `label '${t.value}'`;
  if (t.kind === 'string') return `string ${JSON.stringify(t.value)}`;
  return DESCRIBE[t.kind];
}

/** Deepest parenthesis nesting accepted (see the header). */
export const MAX_NESTING = 500;

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly text: string, private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    // tokenize() always ends with an eof token, and the parser never moves past it.
    return this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!;
  }
  private take(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private fail(t: Token, reason: string): never {
    throw new SelectorError(this.text, t.pos, `${reason}, found ${describe(t)}`);
  }

  parseRoot(): SelectorNode {
    if (this.peek().kind === 'eof') return { op: 'all' };
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'eof') this.fail(rest, "expected '&&', '||' or end of selector");
    return node;
  }

  private parseOr(): SelectorNode {
    return this.parseChain('or', () => this.parseAnd());
  }

  private parseAnd(): SelectorNode {
    return this.parseChain('and', () => this.parseOperation());
  }

  /** operand (op operand)*: one operand as itself, several as one n-ary node. */
  private parseChain(op: 'or' | 'and', operand: () => SelectorNode): SelectorNode {
    const operands = [operand()];
    while (this.peek().kind === op) {
      this.take();
      operands.push(operand());
    }
    return operands.length === 1 ? operands[0]! : { op, operands };
  }

  private parseOperation(): SelectorNode {
    let negated = false;
    while (this.peek().kind === 'not') {
      this.take();
      negated = !negated;
    }
    const node = this.parsePrimary();
    return negated ? { op: 'not', operand: node } : node;
  }

  private parsePrimary(): SelectorNode {
    const t = this.take();
    switch (t.kind) {
      case 'has': return { op: 'has', key: t.value };
      case 'all': return { op: 'all' };
      case 'global': return { op: 'global' };
      case 'lparen': {
        if (this.depth === MAX_NESTING) {
          throw new SelectorError(this.text, t.pos, `parentheses nested deeper than ${MAX_NESTING} levels`);
        }
        this.depth++;
        const inner = this.parseOr();
        this.depth--;
        const close = this.peek();
        if (close.kind !== 'rparen') this.fail(close, "expected ')'");
        this.take();
        return inner;
      }
      case 'label': return this.parseComparison(t.value);
      default: return this.fail(t, 'expected a label, has(), all(), global(), \'!\' or \'(\'');
    }
  }

  private parseComparison(key: string): SelectorNode {
    const opTok = this.take();
    const valueOp = VALUE_OPS[opTok.kind];
    if (valueOp !== undefined) {
      const v = this.take();
      if (v.kind !== 'string') this.fail(v, `expected a quoted string after ${describe(opTok)}`);
      return { op: valueOp, key, value: v.value };
    }
    if (opTok.kind === 'in' || opTok.kind === 'notIn') {
      const values = this.parseSet(opTok);
      return { op: opTok.kind, key, values: toStringSet(values) };
    }
    // The tokenizer only lets an operator follow a label, so this is '(' ')' etc. or eof.
    return this.fail(opTok, `expected an operator after label '${key}'`);
  }

  private parseSet(opTok: Token): string[] {
    const open = this.take();
    if (open.kind !== 'lbrace') this.fail(open, `expected '{' after ${describe(opTok)}`);
    const values: string[] = [];
    while (this.peek().kind === 'string') {
      values.push(this.take().value);
      if (this.peek().kind !== 'comma') break;
      this.take();
    }
    const close = this.peek();
    if (close.kind !== 'rbrace') this.fail(close, "expected a quoted string or '}'");
    this.take();
    return values;
  }
}

export function parseTree(text: string): SelectorNode {
  return new Parser(text, tokenize(text)).parseRoot();
}
