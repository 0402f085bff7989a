// Selector syntax tree, its evaluation against a label map, and its canonical text.
//
// Canonical text is exactly what Calico's Selector.String() prints (libcalico-go
// lib/selector/parser/ast.go), so selectors that Calico considers equal print equal here
// and hashes of it (Felix's IP-set ids) can be reproduced:
// - values in double quotes, or single quotes when the value contains '"';
// - every && / || group in parentheses: "(a == \"x\" && b == \"y\")";
// - set members sorted bytewise and deduplicated: k in {"a", "b"};
// - "!" directly before its operand: !has(k), !(a == "x" || b == "y").

export type SelectorNode =
  | { readonly op: 'all' }
  | { readonly op: 'global' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'not'; readonly operand: SelectorNode }
  | { readonly op: 'and' | 'or'; readonly operands: readonly SelectorNode[] };

export type Labels = Readonly<Record<string, string>>;

export interface MatchOptions {
  /**
   * Value of `global()`. Calico gives global() meaning only in a namespaceSelector, where it
   * selects non-namespaced entities; in plain label matching tern evaluates it as false
   * (matches nothing). A caller evaluating a namespaceSelector for a non-namespaced entity
   * passes `{ global: true }`.
   */
  readonly global?: boolean;
  /**
   * Value of `all()` (default true). libcalico-go rewrites all() in a namespaceSelector to
   * has(projectcalico.org/namespace), false for a non-namespaced entity: such a caller passes
   * `{ global: true, all: false }`.
   */
  readonly all?: boolean;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function label(labels: Labels, key: string): string | undefined {
  return hasOwn(labels, key) ? labels[key] : undefined;
}

export function evaluate(node: SelectorNode, labels: Labels, opts: MatchOptions = {}): boolean {
  switch (node.op) {
    case 'all': return opts.all ?? true;
    case 'global': return opts.global === true;
    case 'has': return hasOwn(labels, node.key);
    case 'not': return !evaluate(node.operand, labels, opts);
    case 'and': return node.operands.every((o) => evaluate(o, labels, opts));
    case 'or': return node.operands.some((o) => evaluate(o, labels, opts));
    default: break;
  }
  const v = label(labels, node.key);
  switch (node.op) {
    case 'eq': return v !== undefined && v === node.value;
    case 'ne': return v === undefined || v !== node.value; // absent label matches
    case 'contains': return v !== undefined && v.includes(node.value);
    case 'startsWith': return v !== undefined && v.startsWith(node.value);
    case 'endsWith': return v !== undefined && v.endsWith(node.value);
    case 'in': return v !== undefined && node.values.includes(v);
    case 'notIn': return v === undefined || !node.values.includes(v); // absent label matches
  }
}

function quote(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

const OP_TEXT = { eq: ' == ', ne: ' != ', contains: ' contains ', startsWith: ' starts with ', endsWith: ' ends with ' } as const;

export function canonical(node: SelectorNode): string {
  switch (node.op) {
    case 'all': return 'all()';
    case 'global': return 'global()';
    case 'has': return `has(${node.key})`;
    case 'not': return `!${canonical(node.operand)}`;
    case 'and': return `(${node.operands.map(canonical).join(' && ')})`;
    case 'or': return `(${node.operands.map(canonical).join(' || ')})`;
    case 'in': return `${node.key} in {${node.values.map(quote).join(', ')}}`;
    case 'notIn': return `${node.key} not in {${node.values.map(quote).join(', ')}}`;
    default: return `${node.key}${OP_TEXT[node.op]}${quote(node.value)}`;
  }
}

/** Sorted bytewise (UTF-8, as Go compares strings) and deduplicated, like Calico's StringSet. */
export function toStringSet(values: readonly string[]): string[] {
  // Each value's bytes once, not twice per comparison.
  const sorted = values.map((v) => ({ v, b: Buffer.from(v) })).sort((x, y) => Buffer.compare(x.b, y.b)).map((e) => e.v);
  return sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]);
}
