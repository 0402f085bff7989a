// decodeSimpleDocument: for every text it either declines (undefined) or gives exactly what
// js-yaml's loadAll gives with the core schema; the common shapes of datastore documents
// are not declined. Mutated documents (characters inserted, deleted, replaced at every
// position by a seeded generator) check the "never a different value" side.
import t from 'tap';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { decodeSimpleDocument } from '../../src/datastore/yaml-fast.js';

const reference = (text: string): { ok: unknown[] } | { error: true } => {
  try { return { ok: loadAll(text, undefined, { schema: CORE_SCHEMA }) }; } catch { return { error: true }; }
};

const COMMON = [
  'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: { name: default }\nspec: { asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: Warning }\n',
  'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: p }\nspec: { cidr: 10.244.0.0/16, blockSize: 26, ipipMode: Never, vxlanMode: Never, natOutgoing: true }\n',
  '\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: { name: node-0 }\nspec: { bgp: { ipv4Address: 10.230.0.11/16 } }\n',
  'apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: { name: node-0-10-244-0-0-26 }\nspec: { node: node-0, cidr: 10.244.0.0/26, state: confirmed }\n',
  'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: a\n  labels:\n    kubernetes.io/hostname: a\n    rack: r1\nspec:\n  bgp:\n    ipv4Address: 10.0.0.11/24\n    ipv6Address: fd00::11/64\n    asNumber: 65001\n',
  'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: 10.0.0.1\n  asNumber: 65000\n  nodeSelector: all()\n  keepOriginalNextHop: false\n  ttlSecurity: null\n',
  'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  serviceClusterIPs:\n  - cidr: 10.96.0.0/12\n  - cidr: fd00:96::/112\n  communities:\n    - name: c1\n      value: 65000:100\n  prefixAdvertisements: []\n  listenPort: 179\n',
  'kind: X\nlist:\n- a\n- b c\n- [1, 2, x]\n- { k: v }\nempty:\nflow: [a, b]\nnested: { a: { b: [c, { d: e }] } }\n',
  '', 'a: ~\nb: Null\nc: TRUE\nd: False\ne: 0\nf: 12345\n',
];

t.test('common shapes: decoded, equal to js-yaml', async (t) => {
  for (const text of COMMON) {
    const fast = decodeSimpleDocument(text);
    t.not(fast, undefined, `decoded: ${JSON.stringify(text.slice(0, 40))}`);
    t.same({ ok: fast }, reference(text), JSON.stringify(text.slice(0, 60)));
    // strictly the same values (t.same is loose about types)
    t.equal(JSON.stringify(fast), JSON.stringify((reference(text) as { ok: unknown[] }).ok));
  }
});

t.test('declined shapes', async (t) => {
  const DECLINED = [
    'a: "q"\n', "a: 'q'\n", 'a: b # c\n', 'a: |\n  x\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: 1.5\n', 'a: 0x10\n',
    'a: -1\n', 'a: 010\n', 'a: .inf\n', 'a: b\n  c\n', 'a: { b: c,\n  d: e }\n', 'a: 1\na: 2\n', '? a\n: b\n',
    'a:\tb\n', 'a: b\r\n', '- a\n- b\n', 'just a scalar\n', 'a: b: c\n', 'a: { b: c, }\n', 'a: 1_000\n', 'a: é\n',
    '__proto__: x\n', '1: a\n', 'a: 1e3\n', 'a: 12\n b: 3\n',
  ];
  for (const text of DECLINED) t.equal(decodeSimpleDocument(text), undefined, JSON.stringify(text));
});

t.test('mutations: never a value js-yaml does not give', async (t) => {
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const ALPHABET = ' \n-:,[]{}#"\'.0123456789abcxyzTNe_/~|>&*!?\t';
  let decoded = 0, checked = 0;
  for (const base of COMMON) {
    for (let i = 0; i < 400; i++) {
      let text = base;
      for (let m = 1 + rnd(3); m > 0; m--) {
        const at = rnd(text.length + 1);
        const c = ALPHABET[rnd(ALPHABET.length)]!;
        const op = rnd(3);
        text = op === 0 ? text.slice(0, at) + c + text.slice(at) : op === 1 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + c + text.slice(at + 1);
      }
      const fast = decodeSimpleDocument(text);
      checked++;
      if (fast === undefined) continue;
      decoded++;
      const ref = reference(text);
      if (!('ok' in ref) || JSON.stringify(ref.ok) !== JSON.stringify(fast)) {
        t.fail(`differs from js-yaml: ${JSON.stringify(text)}: ${JSON.stringify(fast)} vs ${JSON.stringify(ref)}`);
      }
    }
  }
  t.ok(decoded > checked / 10, `some mutations decoded (${decoded} of ${checked})`);
});
