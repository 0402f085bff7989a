// FileContentReader against its reference, parseFileContent, on random file texts and random
// sequences of edits: one reader reads text after text as a daemon does on reloads, with and
// without `affinitiesOf`. Every read must give the reference's values (deep-equal) or its
// error (same class, same words); the one declared exception is a skipped document of the
// other-node-affinity shape hiding a broken document (file-content.ts header). Besides: the
// results are sealed, the reader keeps only the pieces of the last text it read without
// error, and in edit sequences of valid documents an unchanged document keeps its object.
//
// Texts are built from Calico v3 documents (Node, IPPool, BlockAffinity of this node and of
// others in the shapes otherNodesAffinityText reasons about, BGPPeer, BGPConfiguration,
// BGPFilter, GlobalNetworkPolicy with block and quoted multi-line scalars, v1 Secret, an
// IPPoolList) joined by varied document markers, then mutated where the cutting and the
// skip can go wrong: markers inside scalars, CRLF, a BOM, empty documents, duplicates,
// invalid fields, syntax errors, tabs, anchors, directives, JSON.
import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { FileContentReader, otherNodesAffinityText } from '../../src/datastore/file-content.js';
import { parseFileContent, type FileContent } from '../../src/datastore/validate.js';
import { isSealed } from '../../src/datastore/snapshot.js';
import { rng } from '../rib/fixtures/helpers.js';

const SRC = 'cluster.yaml';
const HEAD = 'apiVersion: projectcalico.org/v3\n';
const ME = ['node-1', 'rack-7.example', 'a'];
const OTHERS = ['node-2', 'node-10', 'node-1x', 'rack-7', 'b-9', 'node-1'];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

/** The node name spelled with a YAML double-quoted escape for one of its characters. */
const escaped = (n: string): string => n.replace(/[a-z]/, (c) => `\\x${c.charCodeAt(0).toString(16)}`);

/** A BlockAffinity of `n` for block `k`, in one of the shapes the text skip reasons about. */
function affinity(n: string, k: number, block: number, shape: number, me: string): string {
  const cidr = `10.244.${block}.0/26`;
  const name = `${n}-${k}`;
  switch (shape) {
    case 0: return `${HEAD}kind: BlockAffinity\nmetadata:\n  name: ${name}\nspec:\n  node: ${n}\n  cidr: ${cidr}\n  state: confirmed\n`;
    case 1: return `${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec: {node: ${n}, cidr: '${cidr}', state: pending}\n`;
    case 2: return `# this block moved here from ${me}\n${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec: {node: "${n}", cidr: ${cidr}, state: confirmed}\n`;
    case 3: return `${HEAD}kind: BlockAffinity\nmetadata:\n  name: ${name}\n  labels: {previous-node: ${me}}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`;
    case 4: return `${HEAD}kind: BlockAffinity\nmetadata: {name: esc-${k}}\nspec: {node: "${escaped(n)}", cidr: ${cidr}, state: confirmed}\n`; // the name spelled nowhere
    case 5: return `${HEAD}kind: BlockAffinity\nmetadata:\n  name: ${name}\n  labels: {kind: ipam}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`;
    case 6: return `${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec:\n  node: ${n}\n  cidr: ${cidr}\n  owner:\n    kind: BlockAffinity\n`; // invalid: spec.owner
    case 7: return `${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`.replace(/^/gm, '  ').trimEnd() + '\n';
    case 8: return `${HEAD}kind: "BlockAffinity"\nmetadata: {name: ${name}}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`;
    case 9: return `${HEAD}metadata: {name: ${name}, labels: {\nkind: BlockAffinity\n}}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`; // no kind
    case 10: return `${HEAD}kind: Node\nmetadata: {name: ${name}, labels: {\nkind: BlockAffinity\n}}\nspec: {bgp: {ipv4Address: 10.0.9.${k % 250}/24}}\n`;
    case 11: return `${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec:\n  node: |-\n    ${n}\n  cidr: ${cidr}\n  state: confirmed\n`;
    case 12: return `${HEAD}"kind": BlockAffinity\nmetadata: {name: ${name}}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`;
    case 13: return `${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec: {node: ${n}, cidr: nope, state: confirmed}\n`; // invalid cidr
    case 14: return `${HEAD}kind: BlockAffinity\nmetadata: {name: ${name}}\nspec: {node: ${n}, cidr: [${cidr}\n`; // unreadable
    default: return `{apiVersion: projectcalico.org/v3,\nkind: BlockAffinity,\nmetadata: {name: ${name}}, spec: {node: ${n}, cidr: ${cidr}, state: confirmed}}\n`;
  }
}
const AFFINITY_SHAPES = 16;
const BROKEN_AFFINITY_SHAPES = new Set([6, 9, 13, 14]);

/** A valid document of a random kind; `v` varies its values (an edit), `k` its name. */
function validDoc(r: Rand, me: string, k: number, v: number, kind = int(r, 11)): string {
  switch (kind) {
    case 0: return `${HEAD}kind: Node\nmetadata:\n  name: node-${k}\n  labels: {rack: r${v % 4}}\nspec:\n  bgp:\n    ipv4Address: 10.0.${v % 200}.${k % 250}/24\n`;
    case 1: return `${HEAD}kind: Node\nmetadata: {name: flow-${k}}\nspec: {bgp: {ipv4Address: 10.1.${v % 200}.${k % 250}/24, asNumber: ${64512 + v}}}\n`;
    case 2: return `${HEAD}kind: IPPool\nmetadata:\n  name: pool-${k}\nspec:\n  cidr: 10.${100 + (k % 100)}.0.0/16\n  ipipMode: ${v % 2 ? 'Always' : 'CrossSubnet'}\n  natOutgoing: true\n`;
    case 3: return affinity(r() < 0.3 ? me : pick(r, OTHERS), k, v % 250, int(r, AFFINITY_SHAPES), me);
    case 4: return `${HEAD}kind: BGPPeer\nmetadata: {name: peer-${k}}\nspec:\n  peerIP: 192.0.2.${k % 250}\n  asNumber: ${65000 + v}\n  keepaliveTime: 10s\n`;
    case 5: return `${HEAD}kind: BGPConfiguration\nmetadata:\n  name: ${k % 5 ? `node.node-${k}` : 'default'}\nspec:\n  listenPort: ${1179 + (v % 10)}\n  logSeverityScreen: Info\n`;
    case 6: return `${HEAD}kind: BGPFilter\nmetadata: {name: filter-${k}}\nspec:\n  exportV4:\n    - {action: Reject, matchOperator: In, cidr: 10.96.0.0/12, prefixLength: {min: ${24 + (v % 4)}}}\n    - {action: Accept, source: RemotePeers}\n`;
    case 7: return `${HEAD}kind: GlobalNetworkPolicy\nmetadata:\n  name: gnp-${k}\n  annotations:\n    description: |\n      Allow BGP between nodes, version ${v}.\n      ---\n      kept inside the scalar?\n    note: "first line\n      ... second line"\nspec:\n  selector: all()\n  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: [179]}\n`;
    case 8: return `${HEAD}kind: GlobalNetworkPolicy\nspec:\n  order: ${v}\n  selector: role == 'node'\nmetadata:\n  name: gnp-${k}\n  annotations:\n    description: >-\n      folded ${v}\n      text\n`;
    case 9: return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-${k}\ntype: Opaque\nstringData:\n  password: "pw-${v}"\n`;
    default: return `${HEAD}kind: IPPoolList\nitems:\n- ${HEAD}  kind: IPPool\n  metadata: {name: listed-${k}}\n  spec: {cidr: 10.${k % 100}.${v % 200}.0/24, blockSize: 26}\n`;
  }
}
const LIST_KIND = 10;

/** Markers that start a document (the doc's text follows; INLINE puts its first line on the marker line). */
const SEPS = ['---\n', '---   \n', '--- # next\n', '---\t\n', '...\n---\n', '\n---\n\n', '--- \n# c\n', '---\n---\n', '---\n# only a comment\n---\n'];
/** A marker for a document: INLINE (a syntax error for block documents) only now and then. */
const sepOf = (r: Rand, inline: boolean): string => (inline && r() < 0.04 ? 'INLINE' : pick(r, SEPS));

interface Doc { readonly text: string; readonly sep: string; readonly kind: number; readonly k: number }

function render(docs: readonly Doc[], lead: string, tail: string, crlf: boolean): string {
  const body = docs.map((d) => (d.sep === 'INLINE' ? `--- ${d.text}` : d.sep + d.text)).join('');
  const text = lead + body + tail;
  return crlf ? text.replace(/\r?\n/g, '\r\n') : text;
}

/** Text-level mutations: each takes the text and returns a changed one. */
const MUTATIONS: ((r: Rand, s: string) => string)[] = [
  (r, s) => atLine(r, s, pick(r, ['---\n', '...\n', '--- x\n', '---  # c\n', '... # end\n', '---\r\n'])), // a marker anywhere, in scalars too
  (r, s) => atLineEnd(r, s, pick(r, ['\u2028---', '\u2029...', '\u2028--- z', '\u0085---'])), // line terminators JS knows and YAML does not
  (r, s) => s.replace(/\n {2}(?=\S)/, '\n\t'), // a tab for indentation
  (r, s) => atLine(r, s, pick(r, ['kind: [\n', 'metadata: {name: "x\n', '  bad indent: 1\n'])), // a syntax error
  (r, s) => s.replace(/state: confirmed/, 'state: &st confirmed').replace(/(state: &st confirmed[^]*?)state: confirmed/, '$1state: *st'), // anchors, aliases
  (_r, s) => `%YAML 1.2\n${s.startsWith('---') ? '' : '---\n'}${s}`,
  (r, s) => s.replace(pick(r, [/cidr: 10\.\d+\.\d+\.0\/\d+/, /asNumber: \d+/, /listenPort: \d+/, /ipv4Address: [^\n}]+/]), 'bogus: 1'), // an invalid field
  (_r, s) => `\uFEFF${s}`,
  (r, s) => s.replace(/\r?\n/g, (m) => (r() < 0.3 ? '\r\n' : m)), // mixed line endings
  (r, s) => s.replace(/\r?\n/g, (m) => (r() < 0.3 ? '\r' : m)), // lone CRs, line breaks to YAML too
  (r, s) => atLine(r, s, pick(r, ['---\n', '...\n', '\n', '# note\n', '--- |\n  text\n', '--- "a\n  b"\n'])), // empty and scalar documents
  (r, s) => { const at = [...s.matchAll(/^(?:---|\.\.\.)[ \t]*\r?\n/gm)]; const m = at.length ? pick(r, at) : undefined; return m ? s.slice(0, m.index) + m[0].slice(0, 3) + s.slice(m.index! + m[0].length) : s; }, // a marker glued to the next line
  (r, s) => atLine(r, s, pick(r, ['---x: 1\n', '...\n...\n', '----------\n', '---{}\n'])), // marker-like text that is no marker
];

function lineStarts(s: string): number[] {
  const at = [0];
  for (let i = 0; i < s.length; i++) if (s[i] === '\n' && i + 1 < s.length) at.push(i + 1);
  return at;
}
function atLine(r: Rand, s: string, insert: string): string {
  const at = pick(r, lineStarts(s));
  return s.slice(0, at) + insert + s.slice(at);
}
/** At the end of a line, often the last line of a document (where a cut leaves both sides whole). */
function atLineEnd(r: Rand, s: string, insert: string): string {
  const all = lineStarts(s).slice(1).map((i) => (s[i - 2] === '\r' ? i - 2 : i - 1));
  const last = all.filter((i) => /^(?:\r?\n|\r)(?:---|\.\.\.|$)/.test(s.slice(i, i + 6)));
  const ends = last.length > 0 && r() < 0.5 ? last : all;
  if (ends.length === 0) return s + insert;
  const at = pick(r, ends);
  return s.slice(0, at) + insert + s.slice(at);
}

/** The pieces YAML cuts a text into: a `---` or `...` at the start of a line (after LF or CR), followed by a space, tab, line break or the end. */
function yamlPieces(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (i > 0 && text[i - 1] !== '\n' && text[i - 1] !== '\r') continue;
    const m = text.startsWith('---', i) || text.startsWith('...', i);
    const after = text[i + 3];
    if (m && (after === undefined || after === ' ' || after === '\t' || after === '\r' || after === '\n')) {
      out.push(text.slice(from, i));
      from = i + 3;
      i += 2;
    }
  }
  out.push(text.slice(from));
  return out;
}

/** JSON with the characters TAP's YAML would take for line breaks escaped too. */
const show = (x: unknown): string => String(JSON.stringify(x)).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

type Outcome = { ok: FileContent } | { error: { cls: string; message: string } };
function outcome(f: () => FileContent): Outcome {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: { cls: (e as Error).constructor.name, message: (e as Error).message } };
  }
}

interface Tally { reads: number; exceptions: number; errors: number; reused: number }

/** One read checked against the reference; a failure names the seed and the text. */
function check(t: Test, reader: FileContentReader, text: string, me: string | undefined, label: string, tally: Tally): Outcome {
  const opts = me === undefined ? {} : { affinitiesOf: me };
  const want = outcome(() => parseFileContent(text, SRC, opts));
  const mem = (reader as unknown as { pieces: Map<string, unknown> });
  const before = mem.pieces;
  const got = outcome(() => reader.read(text));
  tally.reads++;
  if ('error' in got) tally.errors++;
  const where = `${label} me=${show(me)} text=${show(text)}`;
  if (me !== undefined) {
    for (const p of new Set(yamlPieces(text))) {
      if (!otherNodesAffinityText(p, me)) continue;
      const alone = outcome(() => parseFileContent(p, SRC, { affinitiesOf: me }));
      if ('ok' in alone && alone.ok.resources.length + alone.ok.secrets.length > 0) t.fail(`a piece skipped unread holds ${show(alone.ok)}: ${where}`);
    }
  }
  if (!isDeepStrictEqual(got, want)) {
    if (!declaredException(got, want, text, me)) t.fail(`differs from parseFileContent: ${where}\n got: ${show(got)}\nwant: ${show(want)}`);
    else tally.exceptions++;
  }
  if ('ok' in got) {
    const unsealed = [...got.ok.resources, ...got.ok.secrets].filter((x) => !isSealed(x));
    if (unsealed.length > 0) t.fail(`unsealed result: ${where}`);
    const parts = new Set(yamlPieces(text));
    const kept = [...mem.pieces.keys()];
    if (kept.some((p) => !parts.has(p))) t.fail(`the reader keeps text it did not just read: ${where} kept=${show(kept)}`);
    if (kept.length > 0 && kept.length !== parts.size) t.fail(`the reader keeps ${kept.length} of ${parts.size} pieces: ${where}`);
  } else if (mem.pieces !== before && mem.pieces.size > 0) {
    t.fail(`a refused text replaced the reader's pieces: ${where}`);
  }
  return got;
}

/**
 * The declared exception: with `affinitiesOf`, a piece of the other-node-affinity shape is
 * skipped undecoded, and one such piece is broken. Then the reader reads what the reference
 * reads with the skipped pieces emptied, and the reference refuses the whole text.
 */
function declaredException(got: Outcome, want: Outcome, text: string, me: string | undefined): boolean {
  if (me === undefined || !('ok' in got) || !('error' in want)) return false;
  const pieces = yamlPieces(text);
  const skipped = pieces.filter((p) => otherNodesAffinityText(p, me));
  const broken = skipped.filter((p) => 'error' in outcome(() => parseFileContent(p, SRC, { affinitiesOf: me })));
  if (broken.length === 0 || !broken.every((p) => documentedShape(p, me))) return false;
  const emptied = pieces.map((p) => (otherNodesAffinityText(p, me) ? '\n' : p));
  let rebuilt = emptied[0]!;
  let at = pieces[0]!.length;
  for (let i = 1; i < pieces.length; i++) {
    rebuilt += text.slice(at, at + 3) + emptied[i]!;
    at += 3 + pieces[i]!.length;
  }
  return isDeepStrictEqual(outcome(() => parseFileContent(rebuilt, SRC, { affinitiesOf: me })), got);
}

let nextK = 0;
function newDoc(r: Rand, me: string, kinds: readonly number[], inline: boolean): Doc {
  const kind = pick(r, kinds);
  const k = nextK++ % 1000;
  return { text: validDoc(r, me, k, int(r, 1000), kind), sep: sepOf(r, inline), kind, k };
}
/**
 * The shape the header declares a skipped document may have, spelled here apart from the
 * reader: one `kind`, on a line `kind: BlockAffinity` at column 0, no backslash, and the
 * node's name nowhere in the text.
 */
function documentedShape(piece: string, me: string): boolean {
  return !piece.includes(me) && !piece.includes('\\') && piece.split('kind').length === 2 && /(?<![^\r\n])kind:[ \t]+BlockAffinity[ \t]*\r?(?![^\r\n])/.test(piece);
}

function randomDocs(r: Rand, me: string, n: number): Doc[] {
  return Array.from({ length: n }, () => newDoc(r, me, ALL_KINDS, true));
}
const ALL_KINDS = [...Array(LIST_KIND + 1).keys(), 3, 3, 3]; // BlockAffinity four times as often: the skip's shapes

t.test('random texts, read cold and by one warm reader', async (t) => {
  const tally: Tally = { reads: 0, exceptions: 0, errors: 0, reused: 0 };
  for (let seed = 1; seed <= 150; seed++) {
    const r = rng(seed);
    const me = pick(r, ME);
    const warm = [new FileContentReader(SRC), new FileContentReader(SRC, me)];
    for (let round = 0; round < 4; round++) {
      let text = render(randomDocs(r, me, 1 + int(r, 8)), pick(r, ['', '', '---\n', '# file\n']), pick(r, ['', '', '...\n', '---\n', '\n\n']), r() < 0.2);
      for (let m = int(r, 3); m > 0; m--) text = pick(r, MUTATIONS)(r, text);
      if (r() < 0.05) text = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'NodeList', items: [{ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: `j-${seed}` }, spec: {} }] });
      for (const [i, who] of [undefined, me].entries()) {
        check(t, new FileContentReader(SRC, who), text, who, `seed ${seed} round ${round} cold`, tally);
        check(t, warm[i]!, text, who, `seed ${seed} round ${round} warm`, tally);
      }
    }
  }
  t.ok(tally.reads === 2400 && tally.errors > 200 && tally.errors < 4000, `${tally.reads} reads, ${tally.errors} refused, ${tally.exceptions} under the declared exception`);
});

/** For each piece of `text` holding one resource (read alone), its key. */
function pieceKeys(text: string, me: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of yamlPieces(text)) {
    const alone = outcome(() => parseFileContent(p, SRC, me === undefined ? {} : { affinitiesOf: me }));
    if ('ok' in alone) out.set(p, [...alone.ok.resources.map((x) => `${x.kind}/${x.metadata.name}`), ...alone.ok.secrets.map((x) => `Secret/${x.metadata.name}`)]);
  }
  return out;
}
function byKey(c: FileContent): Map<string, object> {
  return new Map<string, object>([...c.resources.map((x) => [`${x.kind}/${x.metadata.name}`, x] as const), ...c.secrets.map((x) => [`Secret/${x.metadata.name}`, x] as const)]);
}

t.test('edit sequences: one reader per node reads every version of the file', async (t) => {
  const tally: Tally = { reads: 0, exceptions: 0, errors: 0, reused: 0 };
  let fresh = 0;
  for (let seed = 1001; seed <= 1120; seed++) {
    const r = rng(seed);
    const me = pick(r, ME);
    // clean sequences: valid documents that the reader reads piecewise (no lists, no text
    // mutations, no marker lines with content), so unchanged pieces must keep their objects
    const clean = seed % 2 === 0;
    const kinds = clean ? ALL_KINDS.filter((k) => k !== LIST_KIND) : ALL_KINDS;
    let docs = Array.from({ length: 2 + int(r, 7) }, () => newDoc(r, me, kinds, !clean));
    let lead = clean ? pick(r, ['', '\uFEFF', '# file\n']) : pick(r, ['', '---\n', '\uFEFF', '# file\n']);
    const tail = pick(r, ['', '...\n', '---\n', '\n']);
    const crlf = r() < 0.25;
    const readers = [new FileContentReader(SRC), new FileContentReader(SRC, me)];
    const prev: ({ text: string; got: FileContent } | undefined)[] = [undefined, undefined];
    let duplicate: Doc | undefined;
    for (let step = 0; step < 14; step++) {
      const i = int(r, docs.length);
      const edit = duplicate && r() < 0.7 ? -1 : int(r, clean ? 6 : 8);
      docs = docs.slice();
      if (edit === -1) docs.splice(docs.lastIndexOf(duplicate!), 1); // the duplicate removed again
      else if (edit === 0 && docs.length > 0) docs[i] = { ...docs[i]!, text: validDoc(r, me, docs[i]!.k, int(r, 1000), docs[i]!.kind) };
      else if (edit === 1 || docs.length === 0) docs.splice(int(r, docs.length + 1), 0, newDoc(r, me, kinds, !clean));
      else if (edit === 2) docs.splice(i, 1);
      else if (edit === 3) { const j = int(r, docs.length); [docs[i], docs[j]] = [docs[j]!, docs[i]!]; }
      else if (edit === 4) docs.splice(int(r, docs.length + 1), 0, (duplicate = r() < 0.5 ? docs[i]! : { ...docs[i]!, sep: sepOf(r, !clean) })); // a duplicate
      else if (edit === 5) docs[i] = { ...docs[i]!, sep: sepOf(r, !clean) };
      else if (edit === 6) docs[i] = { ...docs[i]!, text: pick(r, MUTATIONS)(r, docs[i]!.text) }; // one document broken or bent
      else lead = pick(r, ['', '%YAML 1.2\n---\n', '\uFEFF', '# file\n']);
      if (edit !== 4) duplicate = undefined;
      let text = render(docs, lead, tail, crlf);
      if (!clean && r() < 0.3) text = pick(r, MUTATIONS)(r, text);
      for (const [w, who] of [undefined, me].entries()) {
        const want = outcome(() => parseFileContent(text, SRC, who === undefined ? {} : { affinitiesOf: who }));
        const got = check(t, readers[w]!, text, who, `seed ${seed} step ${step} edit ${edit}`, tally);
        const before = prev[w];
        prev[w] = 'ok' in got && 'ok' in want ? { text, got: got.ok } : undefined;
        if (!clean || !before || !('ok' in got) || !('ok' in want)) continue;
        // pieces read before keep their objects; new pieces get new ones
        const old = new Set(yamlPieces(before.text));
        const was = byKey(before.got);
        const now = byKey(got.ok);
        for (const [piece, keys] of pieceKeys(text, who)) {
          for (const key of keys) {
            const a = was.get(key);
            const b = now.get(key);
            if (old.has(piece) && a !== undefined && b !== a) t.fail(`an unchanged piece was read again: ${key} seed ${seed} step ${step} text=${show(text)}`);
            else if (old.has(piece) && a !== undefined) tally.reused++;
            if (!old.has(piece) && a !== undefined && b === a) t.fail(`a changed piece kept its old object: ${key} seed ${seed} step ${step}`);
            else if (!old.has(piece)) fresh++;
          }
        }
      }
    }
  }
  t.ok(tally.reused > 1000 && fresh > 300, `${tally.reads} reads, ${tally.errors} refused, ${tally.exceptions} under the declared exception, ${tally.reused} objects kept, ${fresh} read anew`);
});

// JavaScript's multiline `^` and `$` also match at U+2028 and U+2029, which YAML reads as
// ordinary characters of a scalar: the text after them is no document marker, whatever follows.
t.test('a Unicode line or paragraph separator before "---" starts no document', async (t) => {
  const gnp = `${HEAD}kind: GlobalNetworkPolicy\nspec: {selector: all()}\nmetadata:\n  name: p\n  annotations:\n    description: >-\n      text`;
  const node = `{apiVersion: projectcalico.org/v3, kind: Node, metadata: {name: smuggled}, spec: {}}`;
  for (const [label, text] of [
    ['U+2028 then a marker', `${gnp}\u2028---\n`],
    ['U+2029 then an end marker', `${gnp}\u2029...\n`],
    ['a document after the separator', `${gnp}\u2028--- ${node}\n`],
    ['a marker followed by U+2028', `${gnp}\n---\u2028x\n`],
  ]) {
    // alone, and after a real marker (a text with one is cut; one without is read whole)
    for (const [where, whole] of [['alone', text!], ['after a marker', `---\n${text!}`]]) {
      for (const me of [undefined, 'node-1']) {
        const want = outcome(() => parseFileContent(whole!, SRC, me === undefined ? {} : { affinitiesOf: me }));
        const got = outcome(() => new FileContentReader(SRC, me).read(whole!));
        const same = isDeepStrictEqual(got, want);
        t.ok(same, `${label}, ${where}, affinitiesOf ${me}${same ? '' : `: got ${show(got)} want ${show(want)}`}`);
      }
    }
  }
});

// Where YAML ends a document inside a scalar, js-yaml on the whole text and the reader agree:
// a marker at column 0 ends a block scalar (and its document); inside a double-quoted scalar
// it is an error; a marker glued to text (`---x`) ends nothing inside a document.
t.test('markers inside scalars: both readers cut or refuse alike', async (t) => {
  const gnp = (annotation: string) => `${HEAD}kind: GlobalNetworkPolicy\nmetadata:\n  name: p\n  annotations:\n${annotation}spec: {selector: all()}\n`;
  const pool = `${HEAD}kind: IPPool\nmetadata: {name: pool-1}\nspec: {cidr: 10.244.0.0/16}\n`;
  const cases: [string, string, 'ok' | 'error'][] = [
    ['block scalar cut by ---, then a document', `${HEAD}kind: GlobalNetworkPolicy\nspec: {selector: all()}\nmetadata:\n  name: p\n  annotations:\n    d: |\n      one\n---\n${pool}`, 'ok'],
    ['block scalar cut by ..., then a document', `${HEAD}kind: IPPool\nspec: {cidr: 10.245.0.0/16}\nmetadata:\n  name: pool-2\n  annotations:\n    d: >\n      one\n...\n${pool}`, 'ok'],
    ['block scalar cut by ---, the rest in the next document', gnp('    d: |\n      one\n---\n') + pool, 'error'],
    ['double-quoted scalar cut by ---', gnp('    d: "one\n---\n    two"\n'), 'error'],
    ['double-quoted scalar continued by ---x', gnp('    d: "one\n---x two"\n'), 'ok'],
    ['flow mapping continued by ...x', gnp('    {d: one,\n...x: two}\n').replace('annotations:\n    {', 'annotations: {'), 'ok'],
    ['indented --- inside a block scalar', gnp('    d: |\n      ---\n      two\n'), 'ok'],
  ];
  for (const [label, text, expect] of cases) {
    const want = outcome(() => parseFileContent(text, SRC));
    t.ok(expect in want, `${label}: the full read gives ${expect} (${show(want).slice(0, 160)})`);
    for (const me of [undefined, 'node-1']) {
      const reader = new FileContentReader(SRC, me);
      for (const round of ['cold', 'warm']) {
        const got = outcome(() => reader.read(text));
        const same = isDeepStrictEqual(got, want);
        t.ok(same, `${label}, ${round}, affinitiesOf ${me}${same ? '' : `: got ${show(got)}`}`);
      }
    }
  }
});
