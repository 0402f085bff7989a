// Calico's label selector language: parser and evaluator, shared by BGPPeer
// nodeSelector/peerSelector (src/peering), IPPool nodeSelector and the ACL companion (src/acl).
//
// Grammar and semantics are Calico's (libcalico-go lib/selector), precedence loosest first:
// `||`, `&&`, `!`, then primaries:
//   k == 'v'   k != 'v' (also true when k is absent)   k in {'a','b'}
//   k not in {…} (also true when k is absent)   has(k)   all()   global()
//   k contains 's'   k starts with 's'   k ends with 's'   ( … )
// Strings take '…' or "…" (no escapes). Label keys are [a-zA-Z0-9_./-]{1,512}, so
// `projectcalico.org/namespace` and `kubernetes.io/hostname` are keys. Whitespace is ' ' and
// '\t' only, as in Calico.
//
// Empty selector. parseSelector('') (or blank text) returns all(), exactly as Calico's
// parser does. Whether an ABSENT field means all() is the caller's business, and Calico
// differs per field: a policy `selector` and an IPPool `nodeSelector` that are empty select
// everything (all()); a BGPPeer with neither `node` nor `nodeSelector` applies to every node
// (a "global" peer); an empty BGPPeer `peerSelector` means "no selector, use peerIP", not
// "every node" — src/peering checks for presence before parsing.
//
// global(). Calico gives it meaning only inside a namespaceSelector, where it selects
// non-namespaced entities (Calico's Go evaluator returns true and rewrites the selector
// before use). In plain label matching tern evaluates global() as FALSE — it matches
// nothing — so a stray `selector: global()` cannot select every endpoint. Callers that
// evaluate a namespaceSelector for a non-namespaced entity pass `{ global: true }` to
// matches().
//
// Invariants
// - parseSelector either returns a Selector or throws SelectorError (code
//   ERR_SELECTOR_SYNTAX) whose `position` is the 0-based index of the offending character
//   (the text length for an unexpected end), and whose message repeats the selector with a
//   caret under that character. Parentheses nested deeper than MAX_NESTING (500) are such
//   an error (Calico has no limit; see parser.ts), never a RangeError.
// - toString() is Calico's canonical form (see ast.ts); parseSelector(s.toString()) is
//   equivalent to s and prints the same text, except where a '!' stands before a
//   parenthesised '!': Calico prints `!(!has(a))` as `!!has(a)`, which both parsers read
//   back as `has(a)`.
// - Selectors are immutable and pure; matches() never throws.
import { canonical, evaluate, type Labels, type MatchOptions, type SelectorNode } from './ast.js';
import { parseTree } from './parser.js';

export { SelectorError } from './errors.js';
export { MAX_NESTING } from './parser.js';
export type { SelectorNode, Labels, MatchOptions } from './ast.js';

export interface Selector {
  /** True when the labels satisfy the selector. `opts.global` is the value of global() (default false). */
  matches(labels: Labels, opts?: MatchOptions): boolean;
  /** Calico's canonical text, e.g. `(a == "x" || (b == "y" && c == "z"))`. */
  toString(): string;
  /** The syntax tree, for callers that need to inspect it (e.g. which labels are used). */
  readonly ast: SelectorNode;
}

class ParsedSelector implements Selector {
  private text: string | undefined;
  constructor(readonly ast: SelectorNode) {}
  matches(labels: Labels, opts?: MatchOptions): boolean {
    return evaluate(this.ast, labels, opts);
  }
  toString(): string {
    this.text ??= canonical(this.ast);
    return this.text;
  }
}

/** Parses a Calico selector; throws SelectorError. Empty or blank text is all(). */
export function parseSelector(text: string): Selector {
  return new ParsedSelector(parseTree(text));
}

/** `(sel) && !(not)` as one selector, built from both trees (no text printed and read again). */
export function andNot(sel: Selector, not: Selector): Selector {
  return new ParsedSelector({ op: 'and', operands: [sel.ast, { op: 'not', operand: not.ast }] });
}

/** The selector that matches everything. */
export const ALL: Selector = new ParsedSelector({ op: 'all' });
