// Felix policy semantics, pure: the model (labels, ordering, scoping) and the in-process
// evaluator (explain.ts), which walks the model in the order render.ts writes the chains.
import t from 'tap';
import { buildModel } from '../../src/acl/model.js';
import { explain, parseFlow } from '../../src/acl/explain.js';
import { ALLOW_ALL, gnp, np, profile, snapshot, threePods, wep } from './fixtures/resources.js';

const ALLOW_DB = np('default', 'allow-db', {
  order: 100, selector: "role == 'db'", types: ['Ingress'],
  ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5432] } }],
});

t.test('endpoint labels: profile labelsToApply < own labels < namespace/orchestrator', async (t) => {
  const s = snapshot({
    endpoints: [wep({ ns: 'shop', name: 'a', node: 'n1', iface: 'cali1', ips: ['10.0.0.1/32'], labels: { tier: 'own' }, profiles: ['p1', 'p2'] })],
    profiles: [profile('p1', { labelsToApply: { tier: 'p1', from: 'p1' } }), profile('p2', { labelsToApply: { from: 'p2', only2: 'x' } })],
  });
  const ep = buildModel(s).endpoints[0]!;
  t.same(ep.labels, {
    tier: 'own', from: 'p1', only2: 'x',
    'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s',
  });
});

t.test('policy order: ascending, no order last, ties by name; NetworkPolicy stays in its namespace', async (t) => {
  const s = snapshot({
    endpoints: [
      wep({ ns: 'a', name: 'x', node: 'n1', iface: 'cali1', ips: ['10.0.0.1/32'] }),
      wep({ ns: 'b', name: 'y', node: 'n2', iface: 'cali2', ips: ['10.0.0.2/32'] }),
    ],
    gnps: [gnp('zeta', { order: 5 }), gnp('alpha', { order: 5 }), gnp('none', {}), gnp('first', { order: 1 }), gnp('egr', { order: 2, types: ['Egress'] }), gnp('egr-only', { order: 2, egress: [{ action: 'Allow' }] }), gnp('both', { order: 2, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] })],
    nps: [np('a', 'local', { order: 3 })],
  });
  const m = buildModel(s);
  t.same(m.endpoints[0]!.policies.ingress, ['first', 'both', 'a/local', 'alpha', 'zeta', 'none']);
  t.same(m.endpoints[1]!.policies.ingress, ['first', 'both', 'alpha', 'zeta', 'none']);
  t.same(m.endpoints[0]!.policies.egress, ['both', 'egr', 'egr-only'], 'default types: Egress with egress rules; egress-only is not Ingress');
  t.same(buildModel(s, 'n2').endpoints.map((e) => e.key), ['b/y'], 'only this node’s endpoints get chains');
});

t.test('rule selectors: namespaced unless namespaceSelector; notSelector folded into a positive selector, else unscoped', async (t) => {
  const s = snapshot({
    endpoints: [
      wep({ ns: 'a', name: 'web', node: 'n1', iface: 'cali1', ips: ['10.0.0.1/32'], labels: { app: 'web' }, profiles: ['kns.a'] }),
      wep({ ns: 'b', name: 'web', node: 'n1', iface: 'cali2', ips: ['10.0.0.2/32'], labels: { app: 'web' }, profiles: ['kns.b'] }),
    ],
    profiles: [profile('kns.a', { labelsToApply: { 'pcns.team': 'red' } }), profile('kns.b', { labelsToApply: { 'pcns.team': 'blue' } })],
    nps: [np('a', 'p', {
      ingress: [
        { action: 'Allow', source: { selector: "app == 'web'" } },
        { action: 'Allow', source: { selector: "app == 'web'", namespaceSelector: "team == 'blue'" } },
        { action: 'Deny', source: { notSelector: "app == 'db'" } },
      ],
    })],
    gnps: [gnp('g', { ingress: [{ action: 'Deny', source: { notSelector: "app == 'db'" } }] })],
  });
  const rules = buildModel(s).policies.get('a/p')!.rules.ingress;
  t.same(rules[0]!.source.selector!.members.v4, ['10.0.0.1/32']);
  t.same(rules[1]!.source.selector!.members.v4, ['10.0.0.2/32']);
  t.same(rules[2]!.source.selector!.members.v4, ['10.0.0.1/32'], 'notSelector side: own namespace AND NOT the notSelector (Felix folds it in)');
  t.equal(rules[2]!.source.notSelector, null, 'no set apart for a folded notSelector');
  const global = buildModel(s).policies.get('g')!.rules.ingress[0]!.source;
  t.equal(global.selector, null, 'a GlobalNetworkPolicy side with only a notSelector has no positive selector');
  t.same(global.notSelector!.members.v4, [], 'its notSelector is a cluster-wide set apart');
});

t.test('flows, as Felix decides them', async (t) => {
  const open = threePods();
  t.ok(explain(open, 'default/frontend', 'default/db', 'tcp/5432').allowed, 'allow-all profile');

  const isolated = threePods({}, { dbProfiles: [] });
  const r = explain(isolated, 'default/frontend', 'default/db', 'icmp');
  t.equal(r.allowed, false);
  t.match(r.ingress!.reason, /isolated/);
  t.equal(explain(isolated, 'default/db', 'default/frontend', 'tcp/80').allowed, false, 'egress isolated too');

  const pol = threePods({ nps: [ALLOW_DB] });
  const ok = explain(pol, 'default/frontend', 'default/db', 'tcp/5432');
  t.equal(ok.allowed, true);
  t.equal(ok.ingress!.reason, 'policy default/allow-db (tier default) rule 1 (Allow tcp src selector role == "frontend" (namespace default) dst 5432)');
  t.match(ok.text, /egress of default\/frontend: allowed by profile kns\.default rule 1 \(Allow\)/);
  t.equal(explain(pol, 'default/frontend', 'default/db', 'tcp/8080').allowed, false, 'other port');
  t.equal(explain(pol, 'default/frontend', 'default/db', 'icmp').allowed, false, 'ping');
  t.equal(explain(pol, 'default/other', 'default/db', 'tcp/5432').allowed, false, 'other source');
  t.match(explain(pol, 'default/other', '10.65.1.1', 'tcp/5432').ingress!.reason, /^end of tier default: no policy allowed it/);
  t.equal(explain(pol, 'default/db', 'default/frontend', 'tcp/80').allowed, true, 'db egress: no egress policy, profile');
});

t.test('lower order Deny beats a later Allow; Log continues; Pass goes to profiles', async (t) => {
  const deny = gnp('deny-frontend', {
    order: 10, selector: "role == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Log' }, { action: 'Deny', source: { nets: ['10.65.0.1/32'] } }],
  });
  const s = threePods({ nps: [ALLOW_DB], gnps: [deny] });
  const r = explain(s, 'default/frontend', 'default/db', 'tcp/5432');
  t.equal(r.allowed, false);
  t.equal(r.ingress!.reason, 'global policy deny-frontend (tier default) rule 2 (Deny ipv4 src net 10.65.0.1/32)');
  t.same(r.ingress!.notes, ['logged by global policy deny-frontend (tier default) rule 1 (Log)']);

  const pass = gnp('pass-all', { order: 1, selector: "role == 'db'", ingress: [{ action: 'Pass', protocol: 'ICMP' }] });
  const p = threePods({ nps: [ALLOW_DB], gnps: [pass] });
  t.equal(explain(p, 'default/other', 'default/db', 'icmp').allowed, true, 'Pass skips allow-db, profile allows');
  t.equal(explain(p, 'default/other', 'default/db', 'tcp/5432').allowed, false, 'not passed: end of policies');
  const noProf = threePods({ gnps: [pass] }, { dbProfiles: [] });
  t.match(explain(noProf, 'default/other', 'default/db', 'icmp').ingress!.reason, /no profile allowed/);
});

t.test('match fields: ports ranges, notPorts, notProtocol, icmp type/code, ipVersion, notNets', async (t) => {
  const s = threePods({
    gnps: [gnp('fields', {
      order: 1, selector: "role == 'db'", types: ['Ingress'],
      ingress: [
        { action: 'Allow', protocol: 'UDP', destination: { ports: ['1000:2000'], notPorts: [1500] } },
        { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
        { action: 'Allow', notProtocol: 'TCP', protocol: 47 },
        { action: 'Allow', ipVersion: 6 },
        { action: 'Allow', protocol: 'TCP', source: { notNets: ['10.65.0.0/31'] } },
      ],
    })],
  });
  const f = (src: string, flow: string): boolean => explain(s, src, 'default/db', flow).allowed;
  t.equal(f('default/frontend', 'udp/1000'), true);
  t.equal(f('default/frontend', 'udp/1500'), false);
  t.equal(f('default/frontend', 'udp/2001'), false);
  t.equal(f('default/frontend', 'icmp/8/0'), true);
  t.equal(f('default/frontend', 'icmp/8/1'), false);
  t.equal(f('default/frontend', '47'), true);
  t.equal(f('default/frontend', 'tcp/22'), false, '10.65.0.1 is in notNets');
  t.equal(f('10.9.9.9', 'tcp/22'), true, 'external source outside notNets');
});

t.test('invalid policy is fail-closed and reported', async (t) => {
  const bad = gnp('bad', { order: 1, selector: "role == 'db'", ingress: [{ action: 'Allow', destination: { ports: [80] } }] });
  const s = threePods({ gnps: [bad] });
  const m = buildModel(s);
  t.match(m.problems, [{ kind: 'GlobalNetworkPolicy', key: 'bad', reason: /ports: needs protocol TCP, UDP or SCTP/ }]);
  t.equal(explain(s, 'default/frontend', 'default/db', 'tcp/80').allowed, false);
  const badSel = gnp('badsel', { selector: "role == 'db" });
  t.match(buildModel(threePods({ gnps: [badSel] })).problems, [{ key: 'badsel', reason: /selector/ }]);
});

t.test('parseFlow', async (t) => {
  t.same(parseFlow('tcp/5432'), { protocol: 6, dstPort: 5432 });
  t.same(parseFlow(undefined), { protocol: 1, icmpType: 8, icmpCode: 0 });
  t.same(parseFlow('ICMPv6'), { protocol: 58, icmpType: 128, icmpCode: 0 });
  t.throws(() => parseFlow('tcp/99999'), { code: 'ERR_ACL_FLOW' });
  t.throws(() => parseFlow('bogus/1'), { code: 'ERR_ACL_FLOW' });
  t.throws(() => explain(threePods(), 'default/nope', 'default/db'), { code: 'ERR_ACL_UNKNOWN_ENDPOINT' });
  void ALLOW_ALL;
});
