// Model test of Calico label selectors: random selector trees printed with random whitespace,
// quoting and parentheses, checked against an independent reference of Calico's grammar and
// semantics (fixtures/selector-ref.ts): tern parses each text, prints Calico's canonical text
// for it, evaluates like the reference on label maps made to hit the selector's edges, and
// its canonical text parses back to the same selector. Random mutations of valid texts are
// accepted exactly when the reference accepts them, and rejected only with SelectorError.
// Pathological inputs (deep nesting, datastore-sized texts) end in a result or a
// SelectorError, never a RangeError, with work counted (not timed) to grow linearly.
import t from 'tap';
import { MAX_NESTING, parseSelector, SelectorError, type Selector } from '../../src/selector/index.js';
import { rng } from '../rib/fixtures/helpers.js';
import { genLabels, genNode, int, mutate, pick, printText, type Rand } from './fixtures/selector-gen.js';
import { refCanonical, refEval, refParse, RefReject, type RefNode } from './fixtures/selector-ref.js';

const SEEDS = 1500;
const LABEL_SETS = 8;
const MUTATIONS = 4000;

/** Collects the first few disagreements so one failing assertion shows them all. */
class Mismatches {
  readonly seen: string[] = [];
  count = 0;
  add(what: string): void {
    this.count++;
    if (this.seen.length < 8) this.seen.push(what);
  }
}

const show = (labels: ReadonlyMap<string, string>): string => JSON.stringify(Object.fromEntries(labels));
const record = (labels: ReadonlyMap<string, string>): Record<string, string> => Object.fromEntries(labels);

/** tern against the reference on one parsed selector: canonical text and evaluation. */
function compare(r: Rand, text: string, sel: Selector, ref: RefNode, bad: Mismatches): void {
  const want = refCanonical(ref);
  if (sel.toString() !== want) bad.add(`${JSON.stringify(text)}: canonical ${JSON.stringify(sel.toString())}, Calico ${JSON.stringify(want)}`);
  for (let i = 0; i < LABEL_SETS; i++) {
    const labels = genLabels(r, ref);
    for (const global of [false, true]) {
      const got = sel.matches(record(labels), { global });
      if (got !== refEval(ref, labels, global)) bad.add(`${JSON.stringify(text)} on ${show(labels)} global=${global}: tern ${got}`);
    }
  }
}

/** What a text does: parses (with the value) or throws (with the error). */
function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A clear rejection: SelectorError, its code, a position inside the text, a caret message. */
function clearRejection(text: string, e: unknown): string | null {
  if (!(e instanceof SelectorError)) return `${(e as Error)?.constructor?.name}: ${String(e)}`;
  if (e.code !== 'ERR_SELECTOR_SYNTAX') return `code ${e.code}`;
  if (!Number.isInteger(e.position) || e.position < 0 || e.position > text.length) return `position ${e.position}`;
  if (!e.message.startsWith(`selector syntax error at position ${e.position}: `)) return `message ${e.message}`;
  if (e.selector !== text) return 'selector not repeated';
  return null;
}

t.test('random selectors: parse, canonical text and evaluation match the reference', async (t) => {
  const bad = new Mismatches();
  const roundTrip = new Mismatches();
  let labelChecks = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = rng(seed);
    const tree = genNode(r, 1 + int(r, 4));
    const text = printText(r, tree);
    // The printer keeps the tree's shape: the reference reads back the same canonical text.
    const ref = refParse(text);
    if (refCanonical(ref) !== refCanonical(tree)) bad.add(`printer: ${JSON.stringify(text)} is not ${refCanonical(tree)}`);
    const got = attempt(() => parseSelector(text));
    if (!got.ok) {
      bad.add(`${JSON.stringify(text)} refused: ${String(got.error)}`);
      continue;
    }
    compare(r, text, got.value, ref, bad);
    labelChecks += LABEL_SETS * 2;
    // Canonical text parses back to an equivalent selector that Calico prints the same way
    // (or, for a '!' before a parenthesised '!', as the collapsed run: see the named subtest).
    const canon = got.value.toString();
    const again = attempt(() => parseSelector(canon));
    if (!again.ok) {
      roundTrip.add(`${JSON.stringify(canon)} refused: ${String(again.error)}`);
      continue;
    }
    compare(r, canon, again.value, refParse(canon), roundTrip);
    for (let i = 0; i < LABEL_SETS; i++) {
      const labels = genLabels(r, ref);
      if (again.value.matches(record(labels)) !== got.value.matches(record(labels))) {
        roundTrip.add(`${JSON.stringify(canon)} differs from ${JSON.stringify(text)} on ${show(labels)}`);
      }
    }
    if (parseSelector(again.value.toString()).toString() !== again.value.toString()) roundTrip.add(`${canon} not stable`);
  }
  t.same(bad.seen, [], `${SEEDS} selectors, ${labelChecks} label maps: ${bad.count} disagreements`);
  t.same(roundTrip.seen, [], `canonical round trip: ${roundTrip.count} disagreements`);
});

t.test('precedence: || loosest, then &&, then ! on one operation', async (t) => {
  const bad = new Mismatches();
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(10_000 + seed);
    // Three primaries, evaluated alone by the reference; the combinations are worked out here.
    const leaves = [0, 1, 2].map(() => {
      let n = genNode(r, 0);
      while (n.k === 'global') n = genNode(r, 0);
      return { n, text: printText(r, n) };
    });
    const [a, b, c] = leaves as [(typeof leaves)[0], (typeof leaves)[0], (typeof leaves)[0]];
    const tree: RefNode = { k: 'and', xs: [a.n, b.n, c.n] };
    for (let i = 0; i < LABEL_SETS; i++) {
      const labels = genLabels(r, tree);
      const [va, vb, vc] = [a, b, c].map((x) => refEval(x.n, labels, false)) as [boolean, boolean, boolean];
      const cases: [string, boolean][] = [
        [`${a.text} || ${b.text} && ${c.text}`, va || (vb && vc)],
        [`${a.text} && ${b.text} || ${c.text}`, (va && vb) || vc],
        [`!${a.text} && ${b.text}`, !va && vb],
        [`!${a.text} || ${b.text}`, !va || vb],
        [`!(${a.text} || ${b.text}) && ${c.text}`, !(va || vb) && vc],
        [`!!${a.text} || !${b.text} && !!!${c.text}`, va || (!vb && !vc)],
      ];
      for (const [text, want] of cases) {
        const got = attempt(() => parseSelector(text).matches(record(labels)));
        if (!got.ok || got.value !== want) bad.add(`${JSON.stringify(text)} on ${show(labels)}: ${got.ok ? got.value : String(got.error)}`);
      }
    }
  }
  t.same(bad.seen, [], `${bad.count} disagreements`);
  t.equal(parseSelector("a == 'x' || b == 'y' && !c == 'z'").toString(), '(a == "x" || (b == "y" && !c == "z"))');
});

t.test('mutated texts: accepted exactly when Calico accepts, else a SelectorError', async (t) => {
  const bad = new Mismatches();
  const byKind = new Map<string, { accepted: number; rejected: number }>();
  for (let seed = 1; seed <= MUTATIONS; seed++) {
    const r = rng(20_000 + seed);
    const tree = genNode(r, int(r, 3));
    let { kind, text } = mutate(r, printText(r, tree));
    if (int(r, 4) === 0) ({ text } = mutate(r, text));
    const ref = attempt(() => refParse(text));
    if (!ref.ok && !(ref.error instanceof RefReject)) throw ref.error;
    const got = attempt(() => parseSelector(text));
    const tally = byKind.get(kind) ?? { accepted: 0, rejected: 0 };
    byKind.set(kind, tally);
    if (ref.ok) {
      tally.accepted++;
      if (!got.ok) bad.add(`${JSON.stringify(text)} (${kind}): Calico accepts, tern: ${String(got.error)}`);
      else compare(r, text, got.value, ref.value, bad);
    } else {
      tally.rejected++;
      if (got.ok) bad.add(`${JSON.stringify(text)} (${kind}): Calico rejects (${(ref.error as Error).message}), tern accepts as ${got.value}`);
      else {
        const why = clearRejection(text, got.error);
        if (why !== null) bad.add(`${JSON.stringify(text)} (${kind}): unclear rejection: ${why}`);
      }
    }
  }
  const rejected = [...byKind.values()].reduce((n, k) => n + k.rejected, 0);
  t.same(bad.seen, [], `${MUTATIONS} mutations (${rejected} invalid): ${bad.count} disagreements`);
  // Every kind of mutation produced invalid texts, so the rejection path was exercised.
  for (const [kind, n] of byKind) t.ok(n.rejected > 20, `${kind}: ${n.rejected} rejected, ${n.accepted} still valid`);
});

t.test('hand-picked texts at the grammar edges: Calico, the reference and tern agree', async (t) => {
  // [text, Calico accepts] (libcalico-go's tokenizer and parser, read by hand)
  const k512 = 'k'.repeat(512);
  const table: [string, boolean][] = [
    ["a startswith 'x'", true], ["a notin {'x'}", true], ["a not\tin {}", true], ["a ends\t with 'x'", true],
    ["a containsx 'v'", false], ['a inx {}', false], ["a in{'x',}", true], ["a in {,'x'}", false],
    ["a in {'x',,}", false], ["a in {'x' 'y'}", false], ['has(a', false], ['has( a )', true], ['has (a)', false],
    ['has()', false], ['all ( )', false], ['global( )', true], ["all == 'x'", true], ["has == 'x'", true],
    ["in in {'x'}", true], ["not in {'x'}", true], ["A IN {'x'}", false], ['ALL()', false],
    ["a == 'x'b == 'y'", false], ["a == 'x' ! b == 'y'", false], ["a == 'x\\'", true], ['a == "x\'y"', true],
    ["a == 'x\"y'", true], ["a == ''", true], ['!', false], ['!!', false], ['()', false], ['(all())', true],
    ["a=='x'&&b=='y'", true], ["a == 'x'\n", false], ["a == 'x'\r", false], ["a\u00a0== 'x'", false],
    ["é == 'x'", false], ["a == 'é'", true], ['&&', false], ['||', false], ['a', false], ['a ==', false],
    ['', true], [' ', true], ['\t \t', true], ["-.//_ == 'x'", true], ["0 == 'x'", true],
    [`${k512} == 'x'`, true], [`${k512}k == 'x'`, false], [`has(${k512}k)`, false],
    ["a == 'x' && !has(b) || c not in {}", true], ["!a == 'x'", true], ["a !== 'x'", false], ["a = = 'x'", false],
  ];
  const bad = new Mismatches();
  for (const [text, calico] of table) {
    const ref = attempt(() => refParse(text));
    const got = attempt(() => parseSelector(text));
    if (ref.ok !== calico) bad.add(`${JSON.stringify(text)}: the reference ${ref.ok ? 'accepts' : 'rejects'}`);
    if (got.ok !== calico) bad.add(`${JSON.stringify(text)}: Calico ${calico ? 'accepts' : 'rejects'}, tern ${got.ok ? 'accepts' : String(got.error)}`);
    else if (ref.ok && got.ok && got.value.toString() !== refCanonical(ref.value)) bad.add(`${JSON.stringify(text)}: ${got.value}`);
    else if (!got.ok && clearRejection(text, got.error) !== null) bad.add(`${JSON.stringify(text)}: ${clearRejection(text, got.error)}`);
  }
  t.same(bad.seen, [], `${table.length} texts`);
});

t.test("canonical text of '!' before a parenthesised '!' re-parses collapsed, as in Calico", async (t) => {
  // Calico's String() prints Not(Not(x)) as "!!x", which its parser reads as x: the text is
  // equivalent but not the same (Felix hashes this text for IP-set ids, so tern keeps it).
  const s = parseSelector('!(!has(a))');
  t.equal(s.toString(), '!!has(a)');
  t.equal(parseSelector(s.toString()).toString(), 'has(a)');
  for (const labels of [{}, { a: '' }] as Record<string, string>[]) t.equal(parseSelector(s.toString()).matches(labels), s.matches(labels));
});

t.test('label maps that are not plain objects or hold prototype names', async (t) => {
  const r: Rand = rng(7);
  const labels = Object.create(null) as Record<string, string>;
  labels['__proto__'] = pick(r, ['x', '']);
  t.equal(parseSelector(`__proto__ == '${labels['__proto__']}'`).matches(labels), true);
  t.equal(parseSelector('has(constructor) || has(toString) || has(hasOwnProperty)').matches({}), false);
  t.equal(parseSelector("constructor != 'x'").matches({}), true);
});

t.test('parentheses nested 10 000 deep: a SelectorError at the level past the limit, not a RangeError', async (t) => {
  // Without a limit the recursive parser overflowed Node's stack (RangeError) somewhere
  // between 2 000 and 5 000 levels, at a depth that depended on the caller's stack.
  const shapes: [string, string][] = [['(', ')'], ['!(', ')'], ["a == 'x' && (", ')'], ["!(a == 'x' || ", ')']];
  for (const [open, close] of shapes) {
    const text = open.repeat(10_000) + 'has(a)' + close.repeat(10_000);
    const got = attempt(() => parseSelector(text));
    t.notOk(got.ok, `${open}… 10 000 deep is refused`);
    if (got.ok) continue;
    t.equal(clearRejection(text, got.error), null, `${open}… 10 000 deep: a clear rejection`);
    t.equal((got.error as SelectorError).position, open.length * MAX_NESTING + open.indexOf('('), 'at the first ( past the limit');
    t.match((got.error as SelectorError).reason, `nested deeper than ${MAX_NESTING}`);
  }
});

t.test(`parentheses nested ${MAX_NESTING} deep parse, evaluate and print`, async (t) => {
  let text = 'has(a)';
  for (let i = 0; i < MAX_NESTING; i++) text = i % 2 === 0 ? `!(k${i} == 'x' && ${text})` : `!(k${i} == 'x' || ${text})`;
  const ref = refParse(text);
  const s = parseSelector(text);
  t.equal(s.toString(), refCanonical(ref));
  for (const labels of [new Map([['a', '']]), new Map<string, string>(), new Map([['k0', 'x'], ['k1', 'x']])]) {
    t.equal(s.matches(record(labels)), refEval(ref, labels, false), show(labels));
  }
  t.equal(parseSelector(s.toString()).toString(), s.toString());
});

/** Calls of the String, Array and Buffer methods a parser uses, and characters or elements copied by slices, while f runs. */
function countWork(f: () => void): { calls: number; copied: number } {
  const work = { calls: 0, copied: 0 };
  const restore: (() => void)[] = [];
  const wrap = (owner: object, names: readonly string[], copies = false): void => {
    const o = owner as Record<string, (...args: unknown[]) => unknown>;
    for (const name of names) {
      const orig = o[name]!;
      o[name] = function (this: unknown, ...args: unknown[]): unknown {
        work.calls++;
        const out = orig.apply(this, args);
        if (copies && (typeof out === 'string' || Array.isArray(out))) work.copied += out.length;
        return out;
      };
      restore.push(() => (o[name] = orig));
    }
  };
  wrap(String.prototype, ['slice', 'substring', 'substr', 'split', 'trim', 'trimStart', 'concat', 'repeat'], true);
  wrap(String.prototype, ['startsWith', 'endsWith', 'indexOf', 'lastIndexOf', 'includes', 'replace', 'charAt', 'charCodeAt', 'codePointAt', 'at', 'match']);
  wrap(Array.prototype, ['slice', 'splice', 'concat'], true);
  wrap(Array.prototype, ['push', 'pop', 'shift', 'unshift', 'indexOf', 'includes', 'map', 'filter', 'every', 'some', 'join', 'sort', 'reduce', 'find', 'findIndex']);
  wrap(Buffer, ['from', 'compare']);
  try {
    f();
  } finally {
    for (const undo of restore) undo();
  }
  return work;
}

/** etcd's default --max-request-bytes (1.5 MiB): the largest value the etcd datastore, and so the Kubernetes API, stores. */
const DATASTORE_MAX = 1_572_864;

/** `head unit(0) sep unit(1) … tail`, as long as fits in `size`. */
function fill(size: number, unit: (i: number) => string, sep: string, head = '', tail = ''): string {
  const parts: string[] = [];
  let len = head.length + tail.length;
  for (let i = 0; ; i++) {
    const u = unit(i);
    if (len + u.length + sep.length > size) break;
    parts.push(u);
    len += u.length + sep.length;
  }
  return head + parts.join(sep) + tail;
}

t.test('datastore-sized texts: parsed or refused clearly, with work growing linearly', async (t) => {
  // [name, valid, text of about `size` characters]
  const shapes: [string, boolean, (size: number) => string][] = [
    ['&& chain', true, (n) => fill(n, (i) => `k${i % 97} == 'v${i}'`, ' && ')],
    ['|| chain of has()', true, (n) => fill(n, (i) => `has(k${i})`, '||')],
    ['set', true, (n) => fill(n, (i) => `'v${i % 5000}'`, ',', 'a in {', '}')],
    ['long value', true, (n) => `a == '${'x'.repeat(n - 8)}'`],
    ['whitespace', true, (n) => ' \t'.repeat((n - 6) / 2) + 'all()'],
    ['! run', true, (n) => '!'.repeat(n - 6) + 'has(a)'],
    ['parenthesised groups', true, (n) => fill(n, (i) => `(${'('.repeat(i % 50)}a == '${i}'${')'.repeat(i % 50)})`, '||')],
    ['unterminated string at the end', false, (n) => fill(n - 12, (i) => `k${i} != 'v'`, '&&') + " && a == 'x"],
    ['stray ) at the end', false, (n) => fill(n - 2, (i) => `!has(k${i})`, ' && ') + ')'],
    ['label with no operator', false, (n) => fill(n - 8, () => "a == ''", '||') + '||a'],
  ];
  const run = (text: string): string | null => {
    const got = attempt(() => parseSelector(text));
    if (!got.ok) return clearRejection(text, got.error) ?? 'refused';
    got.value.matches({ a: 'x', k1: 'v' });
    got.value.toString();
    return null;
  };
  for (const [name, valid, make] of shapes) {
    const text = make(DATASTORE_MAX);
    t.equal(run(text), valid ? null : 'refused', `${name}, ${text.length} characters: ${valid ? 'parsed' : 'a clear rejection'}`);
  }
  // Work counted on 16 KiB and four times that, after the full-size runs: counting slows
  // every call down, and V8 keeps some slower paths once a builtin has been replaced.
  for (const [name, , make] of shapes) {
    const [small, big] = [1 << 14, 1 << 16].map((size) => countWork(() => run(make(size)))) as [{ calls: number; copied: number }, { calls: number; copied: number }];
    // Four times the text: linear work is 4×, sorting a set (n log n) a little more; quadratic is 16×.
    t.ok(big.calls <= 6 * small.calls + 100, `${name}: ${small.calls} → ${big.calls} method calls`);
    t.ok(big.copied <= 6 * small.copied + 1000, `${name}: ${small.copied} → ${big.copied} characters copied`);
  }
});
