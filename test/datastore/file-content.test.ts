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
