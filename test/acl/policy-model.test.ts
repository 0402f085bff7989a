// Randomized differential test of the ACL companion's policy semantics, pure: random valid
// snapshots (fixtures/policy-gen.ts) and random flows, judged by an independent reference of
// Felix's semantics (fixtures/felix-reference.ts) and by tern's explain() on the same
// snapshot. A disagreement is shrunk (fixtures/shrink.ts) and printed as the snapshot that
// still disagrees. Bugs found this way keep their own minimised subtests below.
// The kernel level of the same comparison is policy-model-kernel.test.ts.
import t from 'tap';
import { buildModel } from '../../src/acl/model.js';
import type { Scenario, Sel, SideDef } from './fixtures/felix-reference.js';
import { gen, randFlow, randHepFlow, scenario, toSnapshot } from './fixtures/policy-gen.js';
import { compare, report, type Compared } from './fixtures/policy-compare.js';

const SEEDS = Number(process.env.TERN_POLICY_SEEDS ?? 400);
const FLOWS = 30;
const MAX_REPORTS = Number(process.env.TERN_POLICY_REPORTS ?? 3);

t.test(`reference vs explain(): ${SEEDS} random snapshots × ${FLOWS} flows`, async (t) => {
  let flows = 0;
  let allowed = 0;
  let failures = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const scn = scenario(seed);
    const model = buildModel(toSnapshot(scn));
    if (model.problems.length > 0) {
      t.fail(`seed ${seed}: tern refused a valid snapshot: ${JSON.stringify(model.problems)}`);
      continue;
    }
    const g = gen(seed * 7919);
    for (let i = 0; i < FLOWS; i++) {
      const f = scn.heps?.length && i % 3 === 2 ? randHepFlow(g, scn) : randFlow(g, scn);
      const c = compare(scn, f, model);
      flows++;
      if (c.ref.allowed) allowed++;
      if (!c.agree && ++failures <= MAX_REPORTS) t.fail(`seed ${seed} flow ${i} disagrees\n${report(scn, f)}`);
    }
  }
  t.equal(failures, 0, `${flows} flows compared (${allowed} allowed by the reference), ${failures} disagreements`);
  if (SEEDS >= 100) t.ok(allowed > flows * 0.1 && allowed < flows * 0.9, `the generator makes both verdicts common (${allowed}/${flows} allowed)`);
});

// Found by the random test (seed 19): Felix turns serviceAccounts.selector into a plain label
// selector with `pcsa.` prefixed keys (libcalico-go parseServiceAccounts), ANDed into the rule
// side's selector. An endpoint without a service account has no pcsa.* labels, so all(),
// `!has(k)`, `k != 'v'` and `k not in {…}` match it; tern required an account first.
t.test('serviceAccounts.selector matches an endpoint without a service account when the selector does', async (t) => {
  const ep = (name: string, v4: string): Scenario['endpoints'][number] => ({ ns: 'ns-a', name, node: 'n1', iface: `cali-${name}`, v4, labels: {}, profiles: [], ports: [] });
  const scn: Scenario = {
    endpoints: [ep('a', '10.65.0.1'), ep('b', '10.65.0.3'), { ...ep('c', '10.65.0.4'), labels: { 'projectcalico.org/serviceaccount': 'sa-x' } }],
    profiles: [{ name: 'ksa.ns-a.sa-x', labelsToApply: { 'pcsa.role': 'reader' }, ingress: [], egress: [] }],
    tiers: [], netsets: [],
    policies: [{ kind: 'NetworkPolicy', ns: 'ns-a', name: 'p0', tier: 'default', egress: [], ingress: [] }],
  };
  const flow = (dst: string, sel: Sel): Compared => {
    const s: Scenario = { ...scn, policies: [{ ...scn.policies[0]!, egress: [{ action: 'Allow', source: {}, destination: { saSelector: sel } }] }] };
    const d = s.endpoints.find((e) => e.name === dst)!;
    return compare(s, { src: s.endpoints[0]!, dst: d, pkt: { family: 4, proto: 6, src: '10.65.0.1', dst: d.v4, srcPort: 40000, dstPort: 5432 } });
  };
  const cases: [Sel, string][] = [[{ op: 'all' }, 'all()'], [{ op: 'ne', key: 'role', val: 'reader' }, "role != 'reader'"], [{ op: 'notin', key: 'role', vals: ['reader'] }, "role not in {'reader'}"]];
  for (const [sel, text] of cases) {
    const c = flow('b', sel);
    t.equal(c.ref.ingress !== null, true, `reference: ${text} picks the account-less endpoint`);
    t.equal(c.tern.egress, true, `tern: ${text} picks the account-less endpoint\n${c.tern.text}`);
  }
  t.equal(flow('c', { op: 'ne', key: 'role', val: 'reader' }).tern.egress, false, "role != 'reader' still excludes an account labelled reader");
  t.equal(flow('b', { op: 'has', key: 'role' }).tern.egress, false, 'has(role) needs the account label');
});

// Found by the random test: a named port in a NetworkPolicy rule side with no selector,
// notSelector, namespaceSelector or serviceAccounts. libcalico-go leaves that side's selector
// empty (getEndpointSelector scopes only a side that selects), and Felix's rule scanner builds
// the named-port IP set from the side's positive selector or, without one, all(): endpoints
// of every namespace with that port name. tern scoped it to the policy's namespace.
t.test('a named port on a side without selectors matches endpoints of every namespace (NetworkPolicy)', async (t) => {
  const ep = (ns: string, name: string, v4: string): Scenario['endpoints'][number] =>
    ({ ns, name, node: 'n1', iface: `cali-${name}`, v4, labels: { app: name }, profiles: [], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] });
  const scn = (destination: SideDef): Scenario => ({
    endpoints: [ep('ns-a', 'a', '10.65.0.1'), ep('ns-b', 'b', '10.65.1.1'), ep('ns-a', 'c', '10.65.0.3')], profiles: [], tiers: [], netsets: [],
    policies: [{ kind: 'NetworkPolicy', ns: 'ns-a', name: 'p0', tier: 'default', ingress: [], egress: [{ action: 'Allow', protocol: 'TCP', source: {}, destination }] }],
  });
  const flow = (s: Scenario, dst: string, dstPort: number): Compared => {
    const d = s.endpoints.find((e) => e.name === dst)!;
    return compare(s, { src: s.endpoints[0]!, dst: d, pkt: { family: 4, proto: 6, src: '10.65.0.1', dst: d.v4, srcPort: 40000, dstPort } });
  };
  const plain = scn({ ports: ['http'] });
  for (const [dst, port, allowed] of [['b', 80, true], ['c', 80, true], ['b', 8080, false]] as const) {
    const c = flow(plain, dst, port);
    t.equal(c.ref.ingress !== null, allowed, `reference: egress to ${dst}:${port} ${allowed ? 'allowed' : 'dropped'}`);
    t.equal(c.tern.egress, allowed, `tern: egress to ${dst}:${port} ${allowed ? 'allowed' : 'dropped'}\n${c.tern.text}`);
  }
  const scoped = scn({ ports: ['http'], selector: { op: 'has', key: 'app' } });
  t.equal(flow(scoped, 'b', 80).tern.egress, false, 'with a selector the side (and its named ports) stays in the namespace');
  t.equal(flow(scoped, 'c', 80).tern.egress, true);
});

// Found by the random test (seed 29). Felix's rule scanner (combineMatchesIfPossible) folds a
// side's notSelector into its positive selector when there is one — a NetworkPolicy side
// always has one, its namespace — so the IP set holds the entities that match
// `(positive) && !(notSelector)`. A GlobalNetworkSet whose net covers a pod, and which the
// notSelector matches, must not take the pod out; tern subtracted a separate notSelector set.
t.test('a notSelector is folded into the positive selector of its side (addresses shared with a network set)', async (t) => {
  const ep = (name: string, v4: string, labels: Record<string, string> = {}): Scenario['endpoints'][number] => ({ ns: 'ns-a', name, node: 'n1', iface: `cali-${name}`, v4, labels, profiles: [], ports: [] });
  const scn = (kind: 'NetworkPolicy' | 'GlobalNetworkPolicy', destination: SideDef): Scenario => ({
    endpoints: [ep('a', '10.65.0.1'), ep('b', '10.65.0.3'), ep('c', '10.65.0.4', { role: 'backend' })], profiles: [], tiers: [],
    netsets: [{ name: 'gns-1', labels: { role: 'backend' }, nets: ['10.65.0.0/16'] }],
    policies: [{ kind, ...(kind === 'NetworkPolicy' ? { ns: 'ns-a' } : {}), name: 'p2', tier: 'default', ingress: [], egress: [{ action: 'Allow', source: {}, destination }] }],
  });
  const flow = (s: Scenario, dst: string): Compared => {
    const d = s.endpoints.find((e) => e.name === dst)!;
    return compare(s, { src: s.endpoints[0]!, dst: d, pkt: { family: 4, proto: 6, src: '10.65.0.1', dst: d.v4, srcPort: 40000, dstPort: 80 } });
  };
  const not: SideDef = { notSelector: { op: 'ends', key: 'role', val: 'nd' } };
  for (const [what, s, dst, allowed] of [
    ['NetworkPolicy, notSelector only (folded into the namespace)', scn('NetworkPolicy', not), 'b', true],
    ['NetworkPolicy, notSelector only: a pod the notSelector matches', scn('NetworkPolicy', not), 'c', false],
    ['GlobalNetworkPolicy, selector and notSelector (folded)', scn('GlobalNetworkPolicy', { ...not, selector: { op: 'all' } }), 'b', true],
    ['GlobalNetworkPolicy, notSelector only (no positive selector: subtracted as a set)', scn('GlobalNetworkPolicy', not), 'b', false],
  ] as const) {
    const c = flow(s, dst);
    t.equal(c.ref.ingress !== null, allowed, `reference: ${what}: ${allowed ? 'allowed' : 'dropped'}`);
    t.equal(c.tern.egress, allowed, `tern: ${what}: ${allowed ? 'allowed' : 'dropped'}\n${c.tern.text}`);
  }
});

// Found by the random test (seed 107). libcalico-go turns a rule's namespaceSelector into a
// label selector on `pcns.`-prefixed keys, with all() → has(projectcalico.org/namespace) and
// global() → !has(projectcalico.org/namespace). A global entity (GlobalNetworkSet,
// HostEndpoint) has no namespace labels, so `team != 'red'` or `!has(team)` matches it and
// all() does not; tern matched global entities with global() only.
t.test("a namespaceSelector is evaluated for global entities as libcalico-go's rewrite does", async (t) => {
  const ep = (ns: string, name: string, v4: string): Scenario['endpoints'][number] => ({ ns, name, node: 'n1', iface: `cali-${name}`, v4, labels: {}, profiles: [], ports: [] });
  const scn = (namespaceSelector: Sel): Scenario => ({
    endpoints: [ep('ns-b', 'a', '10.65.1.3'), ep('ns-c', 'b', '10.65.2.2')],
    profiles: [{ name: 'kns.ns-c', labelsToApply: { 'pcns.team': 'red' }, ingress: [], egress: [] }], tiers: [],
    netsets: [{ name: 'gns-0', labels: {}, nets: ['10.99.0.0/16', '10.65.2.0/24'] }],
    policies: [{ kind: 'GlobalNetworkPolicy', name: 'p1', tier: 'default', ingress: [], egress: [{ action: 'Allow', source: {}, destination: { namespaceSelector } }] }],
  });
  const cases: [Sel, string, boolean][] = [
    [{ op: 'ne', key: 'team', val: 'red' }, "team != 'red'", true],
    [{ op: 'not', x: { op: 'has', key: 'team' } }, '!has(team)', true],
    [{ op: 'eq', key: 'team', val: 'red' }, "team == 'red'", true],
    [{ op: 'all' }, 'all()', true],
    [{ op: 'eq', key: 'team', val: 'blue' }, "team == 'blue'", false],
  ];
  for (const [sel, text, allowed] of cases) {
    const s = scn(sel);
    const c = compare(s, { src: s.endpoints[0]!, dst: s.endpoints[1]!, pkt: { family: 4, proto: 6, src: '10.65.1.3', dst: '10.65.2.2', srcPort: 40000, dstPort: 80 } });
    t.equal(c.ref.ingress !== null, allowed, `reference: ${text} ${allowed ? 'allows' : 'drops'} (the pod or the network set covering it)`);
    t.equal(c.tern.egress, allowed, `tern: ${text}\n${c.tern.text}`);
  }
  const s = scn({ op: 'all' });
  const toSet = compare(s, { src: s.endpoints[0]!, dst: s.endpoints[0]!, pkt: { family: 4, proto: 6, src: '10.65.1.3', dst: '10.99.0.1', srcPort: 40000, dstPort: 80 } });
  t.equal(toSet.tern.egress, false, `all() does not select the network set's own addresses\n${toSet.tern.text}`);
  const neg = scn({ op: 'ne', key: 'team', val: 'red' });
  const toSet2 = compare(neg, { src: neg.endpoints[0]!, dst: neg.endpoints[0]!, pkt: { family: 4, proto: 6, src: '10.65.1.3', dst: '10.99.0.1', srcPort: 40000, dstPort: 80 } });
  t.equal(toSet2.tern.egress, true, `team != 'red' selects the network set's own addresses\n${toSet2.tern.text}`);
});
