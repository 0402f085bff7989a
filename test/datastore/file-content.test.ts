// FileContentReader: the piecewise reader of a file datastore gives exactly what
// parseFileContent gives (values, errors), and keeps the objects of unchanged documents.
import t from 'tap';
import { FileContentReader } from '../../src/datastore/file-content.js';
import { parseFileContent } from '../../src/datastore/validate.js';
import { isSealed } from '../../src/datastore/snapshot.js';

const HEAD = 'apiVersion: projectcalico.org/v3\n';
const node = (n: string, ip = '10.0.0.11/24') => `${HEAD}kind: Node\nmetadata: {name: ${n}}\nspec:\n  bgp: {ipv4Address: ${ip}}\n`;
const pool = `${HEAD}kind: IPPool\nmetadata:\n  name: pool-1\nspec:\n  cidr: 10.244.0.0/16\n`;
const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: s1}\nstringData: {password: x}\n';
const policy = `${HEAD}kind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: all()\n  ingress:\n  - action: Allow\n    notes: |\n      text\n`;

const TEXTS = [
  '', '---\n', '# only a comment\n', `${node('a')}`, `---\n${node('a')}---\n${pool}`, `${node('a')}...\n---\n${pool}`,
  `${node('a')}\n---\n\n# c\n${pool}---\n${secret}`, `--- ${node('a').replace(/\n/g, '\n')}`,
  `${node('a')}---\n${policy}`, `kind: NodeList\nitems:\n- ${node('b').replace(/\n(?=.)/g, '\n  ')}`,
  `${node('a')}---\n${node('a', '10.0.0.12/24')}`, // duplicate
  `${node('a')}---\n${pool.replace('10.244.0.0/16', 'nope')}`, // invalid
  `${node('a')}---\nkind: [\n`, // syntax
  `${node('a')}---\n${node('b')}---\n${secret}---\n${secret}`, // duplicate secret
  '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"j"},"spec":{}}',
  `%YAML 1.2\n---\n${node('a')}`, `${node('a')}---\nx: &a 1\ny: *a\n`,
  // several new pieces at once (one loadAll over them): empty pieces, content on the marker
  // line, a comment-only piece, a trailing marker, an error in one piece of many
  `---\n---\n${node('a')}---\n# c\n---\n${pool}---`, `--- {apiVersion: projectcalico.org/v3, kind: Node, metadata: {name: f}}\n---\n${pool}...\n`,
  `${node('a')}---   \n${node('b')}---\n\n\n${pool}\n...\n---\n${secret}`, `${node('a')}---\n${node('b')}---\nkind: [\n---\n${pool}`,
  `${node('a')}---\n${node('b')}---\n${pool}---\n${node('a')}`,
];

function outcome(f: () => unknown): unknown {
  try { return { ok: f() }; } catch (e) { return { error: (e as Error).message }; }
}

t.test('same values and same errors as parseFileContent, cold and after other texts', async (t) => {
  const warm = new FileContentReader('f.yaml');
  for (const text of [...TEXTS, ...TEXTS.slice().reverse()]) {
    const want = outcome(() => parseFileContent(text, 'f.yaml'));
    t.same(outcome(() => new FileContentReader('f.yaml').read(text)), want, `cold: ${JSON.stringify(text.slice(0, 40))}`);
    t.same(outcome(() => warm.read(text)), want, `warm: ${JSON.stringify(text.slice(0, 40))}`);
  }
});

t.test('an edit re-reads only the changed document; the others keep their sealed objects', async (t) => {
  const r = new FileContentReader('f.yaml');
  const one = r.read(`${node('a')}---\n${node('b')}---\n${pool}---\n${secret}`);
  t.ok(one.resources.every(isSealed) && one.secrets.every(isSealed), 'sealed');
  const two = r.read(`${node('a')}---\n${node('b', '10.0.0.99/24')}---\n${pool}---\n${secret}`);
  t.equal(two.resources[0], one.resources[0], 'node a: same object');
  t.not(two.resources[1], one.resources[1], 'node b: changed');
  t.equal(two.resources[2], one.resources[2], 'pool: same object');
  t.equal(two.secrets[0], one.secrets[0], 'secret: same object');
  t.throws(() => { (two.resources[0] as { kind: string }).kind = 'x'; }, 'frozen');
});

// A daemon's reader (affinitiesOf): other nodes' BlockAffinities are left out, on the text
// skip and on the decoded path alike; everything else is what the full read gives.
const ba = (n: string, cidr: string, style = 0) => [
  `${HEAD}kind: BlockAffinity\nmetadata: { name: ${n}-${cidr.replace(/[./]/g, '-')} }\nspec: { node: ${n}, cidr: ${cidr}, state: confirmed }\n`,
  `${HEAD}kind: BlockAffinity\nmetadata:\n  name: ${n}-x\nspec:\n  node: "${n}"\n  cidr: '${cidr}'\n  state: confirmed\n`,
  `${HEAD}"kind": BlockAffinity\nmetadata: {name: ${n}-q}\nspec: {node: ${n}, cidr: ${cidr}, state: confirmed}\n`,
  `{apiVersion: projectcalico.org/v3,\nkind: BlockAffinity,\nmetadata: {name: ${n}-f}, spec: {node: ${n}, cidr: ${cidr}, state: pending}}\n`,
  // the node's name spelled with an escape: only a decode can tell whose it is
  `${HEAD}kind: BlockAffinity\nmetadata: {name: esc-${cidr.replace(/[./]/g, '-')}}\nspec: {node: "${n.replace(/[-a]/, (c) => `\\x${c.charCodeAt(0).toString(16)}`)}", cidr: ${cidr}, state: confirmed}\n`,
  `${HEAD}kind: BlockAffinity\nmetadata: {name: ${n}-b}\nspec:\n  node: |-\n    ${n}\n  cidr: ${cidr}\n  state: confirmed\n`,
][style]!;
const withoutOthers = (text: string, me: string) => outcome(() => {
  const all = parseFileContent(text, 'f.yaml');
  return { ...all, resources: all.resources.filter((r) => r.kind !== 'BlockAffinity' || r.spec.node === me) };
});

t.test('affinitiesOf: the full read without other nodes\' BlockAffinities', async (t) => {
  for (const me of ['node-1', 'node-10', 'a']) {
    const warm = new FileContentReader('f.yaml', me);
    for (let style = 0; style < 6; style++) {
      const docs = [node('node-1'), node('node-10', '10.0.0.12/24'), pool,
        ba('node-1', '10.244.1.0/26', style), ba('node-10', '10.244.10.0/26', style), ba('a', '10.244.20.0/26', style), ba('b', '10.244.30.0/26', style), secret];
      const text = docs.join('---\n');
      const want = withoutOthers(text, me);
      t.same(outcome(() => new FileContentReader('f.yaml', me).read(text)), want, `${me} style ${style} cold`);
      t.same(outcome(() => warm.read(text)), want, `${me} style ${style} warm`);
      const own = (outcome(() => warm.read(text)) as { ok: { resources: { kind: string }[] } }).ok.resources.filter((r) => r.kind === 'BlockAffinity');
      t.equal(own.length, 1, `${me} style ${style}: its own block kept`);
      // the whole-text path (an alias elsewhere sends the text to parseFileContent) agrees
      const aliased = `${text}---\n${HEAD}kind: IPPool\nmetadata: {name: p2}\nspec: &s {cidr: 10.245.0.0/16}\n`;
      t.same(outcome(() => new FileContentReader('f.yaml', me).read(aliased)), withoutOthers(aliased, me), `${me} style ${style} whole path`);
    }
  }
});

t.test('affinitiesOf: another node\'s broken BlockAffinity is not this node\'s error; its own is', async (t) => {
  const broken = (n: string) => `${HEAD}kind: BlockAffinity\nmetadata: {name: ${n}-bad}\nspec: {node: ${n}, cidr: nope, state: confirmed}\n`;
  const unreadable = `${HEAD}kind: BlockAffinity\nmetadata: {name: zz}\nspec: {node: node-b, cidr: [\n`;
  for (const other of [broken('node-b'), broken('node-b').replace('node: node-b', 'node: "node-b"'), unreadable]) {
    const text = `${node('node-a')}---\n${other}`;
    t.ok('error' in (outcome(() => parseFileContent(text, 'f.yaml')) as object), 'the full read refuses it');
    t.same(outcome(() => new FileContentReader('f.yaml', 'node-a').read(text)), withoutOthers(`${node('node-a')}`, 'node-a'), 'node-a reads the rest');
  }
  const text = `${node('node-a')}---\n${broken('node-a')}`;
  t.same(outcome(() => new FileContentReader('f.yaml', 'node-a').read(text)), outcome(() => parseFileContent(text, 'f.yaml')), 'its own: the same error');
  // a kind line that is not the document's kind leaves no valid resource to skip over
  const nested = `${HEAD}metadata: {name: x, labels: {\nkind: BlockAffinity\n}}\n`;
  t.ok('error' in (outcome(() => parseFileContent(nested, 'f.yaml')) as object), 'a nested kind line: the full read refuses it');
  const twoKinds = `${HEAD}kind: Node\nmetadata: {name: x, labels: {\nkind: BlockAffinity\n}}\nspec: {}\n`;
  t.same(outcome(() => new FileContentReader('f.yaml', 'node-a').read(twoKinds)), outcome(() => parseFileContent(twoKinds, 'f.yaml')), 'a Node that mentions kind twice is read');
});
