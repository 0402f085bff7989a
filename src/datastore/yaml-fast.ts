// A decoder for the common shape of one datastore document: a block mapping whose values
// are plain scalars, nested block mappings, block sequences, or one-line flow mappings and
// sequences (what calicoctl, `tern apply` and hand-written Calico files use). It gives
// exactly the value js-yaml's loadAll gives with the YAML 1.2 core schema, or declines
// (undefined) and the caller decodes the text with js-yaml: a cold process pays for a few
// small functions instead of js-yaml's whole scanner.
//
// Invariants
// - Never a different value: anything outside the subset is declined, not guessed. Declined:
//   quotes, comments, tags, anchors, aliases, block scalars, tabs, CR, any character but
//   printable ASCII, `?` keys, multi-line
//   plain scalars, flow collections over several lines, duplicate keys, keys that are not
//   simple names, and any plain scalar that the core schema might read as a number other
//   than a decimal integer (floats, `0x`, `0o`, `_`, signs, leading zeros).
// - The text is one document's, between markers (file-content.ts cuts at `---` / `...`).

/** Characters that send the whole piece to js-yaml (and anything but printable ASCII). */
const DECLINE = /["'#|>&*!%@`?\\<]|[^\x20-\x7e\n]/;
const KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,14})$/;
const NUMERIC_START = /^[-+.0-9]/;
const NOT_NUMERIC = /[^0-9A-Za-z_.+-]/;

class Decline extends Error {}
const decline = (): never => { throw new Decline(); };

/** The documents in `text` (zero or one), or undefined when js-yaml must decode it. */
export function decodeSimpleDocument(text: string): unknown[] | undefined {
  if (DECLINE.test(text)) return undefined;
  const lines: { indent: number; text: string }[] = [];
  for (const raw of text.split('\n')) {
    const t = raw.trimEnd();
    if (t === '') continue;
    const body = t.trimStart();
    lines.push({ indent: t.length - body.length, text: body });
  }
  if (lines.length === 0) return text === '' ? [] : undefined; // js-yaml: one null document for blank lines
  if (lines[0]!.indent !== 0) return undefined;
  try {
    const p = new BlockParser(lines);
    const value = p.mapping(0);
    if (p.at < lines.length) return undefined;
    return [value];
  } catch (e) {
    if (e instanceof Decline) return undefined;
    throw e;
  }
}

class BlockParser {
  at = 0;
  constructor(private readonly lines: readonly { indent: number; text: string }[]) {}

  /** A block mapping whose keys sit at `indent`; the first line is already at that indent. */
  mapping(indent: number, first?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let text = first;
    for (;;) {
      if (text === undefined) {
        const line = this.lines[this.at];
        if (!line || line.indent < indent) return out;
        if (line.indent > indent) decline();
        text = line.text;
      }
      this.at++;
      const colon = text.indexOf(':');
      if (colon <= 0) decline();
      const key = text.slice(0, colon);
      if (!KEY.test(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) decline();
      const rest = text.slice(colon + 1);
      if (rest !== '' && rest[0] !== ' ') decline();
      out[key] = this.value(rest.trim(), indent);
      text = undefined;
    }
  }

  /** The value after `key:` on a line whose key sits at `indent`. */
  private value(v: string, indent: number): unknown {
    if (v === '') {
      const next = this.lines[this.at];
      if (next && next.text.startsWith('-') && (next.indent > indent || next.indent === indent)) return this.sequence(next.indent);
      if (next && next.indent > indent) return this.mapping(next.indent);
      return null;
    }
    const value = v.startsWith('{') || v.startsWith('[') ? flow(v) : blockScalar(v);
    const next = this.lines[this.at];
    if (next && next.indent > indent) decline(); // a multi-line plain scalar, or worse
    return value;
  }

  /** A block sequence whose dashes sit at `indent`. */
  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.lines[this.at];
      if (!line || line.indent < indent) return out;
      if (line.indent > indent || !line.text.startsWith('-')) {
        if (line.indent === indent) return out; // the parent mapping's next key
        decline();
      }
      const rest = line.text.slice(1);
      if (rest === '' || rest[0] !== ' ') decline(); // nested block under a bare dash, or `-x`
      const item = rest.trimStart();
      const itemIndent = indent + 1 + (rest.length - item.length);
      if (item.startsWith('-')) decline();
      if (item.startsWith('{') || item.startsWith('[')) {
        this.at++;
        out.push(flow(item));
        const next = this.lines[this.at];
        if (next && next.indent > indent) decline();
      } else if (/^[A-Za-z_][A-Za-z0-9_./-]*:(?: |$)/.test(item)) {
        out.push(this.mapping(itemIndent, item));
      } else {
        this.at++;
        out.push(blockScalar(item));
        const next = this.lines[this.at];
        if (next && next.indent > indent) decline();
      }
    }
  }
}

/** A plain scalar in block context (one line, trimmed). */
function blockScalar(s: string): unknown {
  if (s.endsWith(':') || s.includes(': ') || /^[-,[\]{}]/.test(s) || s.includes(' -')) decline();
  return resolve(s);
}

/** The core schema's reading of a plain scalar, for the forms this decoder accepts. */
function resolve(s: string): unknown {
  switch (s) {
    case '~': case 'null': case 'Null': case 'NULL': return null;
    case 'true': case 'True': case 'TRUE': return true;
    case 'false': case 'False': case 'FALSE': return false;
  }
  if (DECIMAL.test(s)) return Number(s);
  // Could the core schema read it as an int or float (sign, dot, digits, 0x/0o/0b, e, _, .inf, .nan)?
  // Two dots or any other character rule that out.
  if (NUMERIC_START.test(s) && !NOT_NUMERIC.test(s) && s.indexOf('.') === s.lastIndexOf('.')) decline();
  if (/^\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(s)) decline();
  return s;
}

/** A flow mapping or sequence wholly on one line, with plain scalars only. */
function flow(s: string): unknown {
  const state = { s, i: 0 };
  const value = flowNode(state);
  skipSpaces(state);
  if (state.i !== s.length) decline();
  return value;
}

function skipSpaces(st: { s: string; i: number }): void {
  while (st.s[st.i] === ' ') st.i++;
}

function flowNode(st: { s: string; i: number }): unknown {
  skipSpaces(st);
  const c = st.s[st.i];
  if (c === '{') {
    st.i++;
    const out: Record<string, unknown> = {};
    skipSpaces(st);
    if (st.s[st.i] === '}') { st.i++; return out; }
    for (;;) {
      const key = flowToken(st);
      if (!KEY.test(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) decline();
      if (st.s[st.i] !== ':' || st.s[st.i + 1] !== ' ') decline();
      st.i += 2;
      out[key] = flowNode(st);
      skipSpaces(st);
      const d = st.s[st.i++];
      if (d === '}') return out;
      if (d !== ',') decline();
      skipSpaces(st);
      if (st.s[st.i] === '}') decline(); // a trailing comma
    }
  }
  if (c === '[') {
    st.i++;
    const out: unknown[] = [];
    skipSpaces(st);
    if (st.s[st.i] === ']') { st.i++; return out; }
    for (;;) {
      out.push(flowNode(st));
      skipSpaces(st);
      const d = st.s[st.i++];
      if (d === ']') return out;
      if (d !== ',') decline();
      skipSpaces(st);
      if (st.s[st.i] === ']') decline();
    }
  }
  const token = flowToken(st);
  if (token === '' || /^-/.test(token)) decline();
  return resolve(token);
}

/** A plain scalar in flow context: up to `,`, `]`, `}` or `:`; a `:` inside declines. */
function flowToken(st: { s: string; i: number }): string {
  const start = st.i;
  while (st.i < st.s.length && !',[]{}:'.includes(st.s[st.i]!)) st.i++;
  const token = st.s.slice(start, st.i).trimEnd();
  if (st.s[st.i] === ':' && st.s[st.i + 1] !== ' ') decline();
  if (st.s[st.i] === '[' || st.s[st.i] === '{') decline();
  return token;
}
