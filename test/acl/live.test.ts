// live.ts: the streaming reader of `nft -j list table` output, split at every byte, and the
// stepwise comparisons against the desired table.
import t from 'tap';
import { ElementSplitter, LiveTable, fingerprints, sameSummarySteps, samePrintsSteps, summarizeLive, type Obj } from '../../src/acl/live.js';
import { runSteps } from '../../src/acl/steps.js';
import type { DesiredTable } from '../../src/acl/render.js';

const DOC = {
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'tern', handle: 1 } },
    { set: { family: 'inet', name: 'tern-s4-a', table: 'tern', type: 'ipv4_addr', handle: 2, flags: ['interval'], elem: ['10.0.0.1', { prefix: { addr: '10.1.0.0', len: 16 } }] } },
    { map: { family: 'inet', name: 'tern-from-wl-dispatch', table: 'tern', type: 'ifname', handle: 3, map: 'verdict', elem: [['cali1', { jump: { target: 'tern-fw-cali1' } }]] } },
    { chain: { family: 'inet', table: 'tern', name: 'tern-fw-cali1', handle: 4, comment: 'a "quoted" {brace} [bracket] \\ back' } },
    { rule: { family: 'inet', table: 'tern', chain: 'tern-fw-cali1', handle: 5, expr: [{ log: { prefix: 'x} ]{ "' } }, { accept: null }] } },
    { rule: { family: 'inet', table: 'tern', chain: 'tern-fw-cali1', handle: 6, expr: [{ drop: null }] } },
  ],
};

t.test('ElementSplitter gives every top-level object, whatever the chunking', async (t) => {
  const text = JSON.stringify(DOC, null, 0).replace(/,"/g, ', "');
  const want = DOC.nftables.map((o) => JSON.stringify(o));
  for (let cut = 0; cut <= text.length; cut++) {
    const got: string[] = [];
    const s = new ElementSplitter((x) => got.push(JSON.stringify(JSON.parse(x))));
    s.feed(text.slice(0, cut));
    s.feed(text.slice(cut));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `split at ${cut}`);
      return;
    }
  }
  const bytes: string[] = [];
  const one = new ElementSplitter((x) => bytes.push(JSON.stringify(JSON.parse(x))));
  for (const ch of text) one.feed(ch);
  t.same(bytes, want, 'one character at a time');
});

t.test('LiveTable object by object = the whole-document summary and fingerprints', async (t) => {
  const live = new LiveTable();
  for (const o of DOC.nftables) live.add(o as Obj);
  t.same(live.summary, summarizeLive(DOC));
  t.same([...live.prints()], [...fingerprints(DOC)]);
  const desired: DesiredTable = {
    family: 'inet', name: 'tern',
    sets: [{ name: 'tern-s4-a', type: 'ipv4_addr', elements: ['10.1.0.0/16', '10.0.0.1/32'] }],
    maps: [{ name: 'tern-from-wl-dispatch', elements: [['cali1', 'tern-fw-cali1']] }],
    chains: [{ name: 'tern-fw-cali1', rules: ['log', 'drop'] }],
  };
  t.equal(runSteps(sameSummarySteps(live.summary, desired)), true, 'summary matches');
  t.equal(runSteps(sameSummarySteps(live.summary, { ...desired, chains: [{ name: 'tern-fw-cali1', rules: ['drop'] }] })), false, 'rule count differs');
  t.equal(runSteps(sameSummarySteps(live.summary, { ...desired, sets: [{ name: 'tern-s4-a', type: 'ipv4_addr', elements: ['10.0.0.1/32'] }] })), false, 'set elements differ');
  t.equal(runSteps(sameSummarySteps(live.summary, { ...desired, chains: [...desired.chains, { name: 'x', hook: 'type filter hook forward priority filter + 10; policy accept;', rules: [] }] })), false, 'missing chain');
  t.equal(runSteps(samePrintsSteps(live, fingerprints(DOC))), true);
  const other = new Map(live.prints());
  other.set('chain:tern-fw-cali1', '[]');
  t.equal(runSteps(samePrintsSteps(live, other)), false, 'a rewritten rule differs');
});
