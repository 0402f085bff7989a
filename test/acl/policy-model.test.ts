// Randomized differential test of the ACL companion's policy semantics, pure: random valid
// snapshots (fixtures/policy-gen.ts) and random flows, judged by an independent reference of
// Felix's semantics (fixtures/felix-reference.ts) and by tern's explain() on the same
// snapshot. A disagreement is shrunk (fixtures/shrink.ts) and printed as the snapshot that
// still disagrees. Bugs found this way keep their own minimised subtests below.
// The kernel level of the same comparison is policy-model-kernel.test.ts.
import t from 'tap';
import { buildModel } from '../../src/acl/model.js';
import type { Scenario, Sel, SideDef } from './fixtures/felix-reference.js';
import { gen, randFlow, scenario, toSnapshot } from './fixtures/policy-gen.js';
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
      const f = randFlow(g, scn);
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
    tiers: [],
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
    endpoints: [ep('ns-a', 'a', '10.65.0.1'), ep('ns-b', 'b', '10.65.1.1'), ep('ns-a', 'c', '10.65.0.3')], profiles: [], tiers: [],
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
