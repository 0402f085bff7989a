// Felix policy semantics beyond one tier, pure (model + explain): tiers and Pass, Felix's
// tie-break between GlobalNetworkPolicy and NetworkPolicy, named ports, service accounts,
// network sets, fields tern cannot honour (fail-closed and reported), notNets per family,
// host-only policies, workload-to-host, anti-spoofing, and the linear address cover.
import t from 'tap';
import { buildModel, minimalCover } from '../../src/acl/model.js';
import { explain } from '../../src/acl/explain.js';
import { renderTable, tableScript } from '../../src/acl/render.js';
import { gnp, gns, netset, node, np, profile, snapshot, threePods, tier, wep } from './fixtures/resources.js';

const ALLOW_DB = np('default', 'allow-db', {
  order: 100, selector: "role == 'db'", types: ['Ingress'],
  ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5432] } }],
});

t.test('tiers: a security-tier Deny beats a default-tier Allow; Pass goes to the next tier', async (t) => {
  const sec = tier('security', { order: 100 });
  const deny = gnp('security.block-frontend', {
    tier: 'security', order: 1, selector: "role == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Deny', source: { selector: "role == 'frontend'" } }, { action: 'Pass', source: { selector: "role == 'other'" } }],
  });
  const s = threePods({ tiers: [sec], gnps: [deny], nps: [ALLOW_DB] });
  const r = explain(s, 'default/frontend', 'default/db', 'tcp/5432');
  t.equal(r.allowed, false, 'Deny in tier security (order 100) wins over the default tier');
  t.match(r.ingress!.reason, /global policy security\.block-frontend \(tier security\) rule 1 \(Deny/);
  const m = buildModel(s, 'host-b');
  t.same(m.endpoints[0]!.tiers.ingress.map((x) => x.tier), ['security', 'default'], 'tier order');
  const other = explain(s, 'default/other', 'default/db', 'tcp/5432');
  t.equal(other.allowed, false, 'Pass to the default tier, where allow-db does not allow other: end of tier');
  t.match(other.ingress!.notes.join('\n'), /tier security: passed to the next tier/);
  t.match(other.ingress!.reason, /^end of tier default/);
  // No match in the security tier: end-of-tier drop, even though default allows.
  const onlyFront = gnp('security.front-only', { tier: 'security', order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "role == 'other'" } }] });
  const s2 = threePods({ tiers: [sec], gnps: [onlyFront], nps: [ALLOW_DB] });
  t.match(explain(s2, 'default/frontend', 'default/db', 'tcp/5432').ingress!.reason, /^end of tier security/, 'end-of-tier drop');
  // defaultAction Pass: unmatched traffic goes on to the default tier.
  const s3 = threePods({ tiers: [tier('security', { order: 100, defaultAction: 'Pass' })], gnps: [onlyFront], nps: [ALLOW_DB] });
  t.equal(explain(s3, 'default/frontend', 'default/db', 'tcp/5432').allowed, true, 'defaultAction Pass');
  // Pass in the last tier: profiles decide.
  const passAll = gnp('security.pass', { tier: 'security', order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Pass' }] });
  t.equal(explain(threePods({ tiers: [sec], gnps: [passAll] }), 'default/frontend', 'default/db', 'tcp/80').allowed, true, 'profiles after the last tier');
  const script = tableScript(renderTable(m));
  t.match(script, /drop comment "end of tier security"/);
  t.match(script, /meta mark & 0x00020000 == 0x00020000 return/);
});

t.test('a policy in a tier without a Tier resource runs last and is reported', async (t) => {
  const p = gnp('ghost.x', { tier: 'ghost', order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow' }] });
  const m = buildModel(threePods({ gnps: [p], nps: [ALLOW_DB] }), 'host-b');
  t.same(m.endpoints[0]!.tiers.ingress.map((x) => x.tier), ['default', 'ghost']);
  t.match(m.problems, [{ kind: 'Tier', key: 'ghost' }]);
});

t.test('same order: GlobalNetworkPolicy and NetworkPolicy sort by Felix name (tier-prefixed, namespace/ for NP)', async (t) => {
  const s = threePods({ gnps: [gnp('zzz', { order: 10, selector: "role == 'db'" })], nps: [np('default', 'aaa', { order: 10, selector: "role == 'db'" })] });
  // "default.zzz" < "default/default.aaa" because '.' < '/'.
  t.same(buildModel(s, 'host-b').endpoints[0]!.policies.ingress, ['zzz', 'default/aaa']);
});

t.test('named ports: from the endpoint ports, that port only', async (t) => {
  const pol = np('default', 'allow-pg', {
    order: 1, selector: "role == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['postgres'] } }],
  });
  const s = threePods({ nps: [pol] }, { dbPorts: [{ name: 'postgres', protocol: 'TCP', port: 5432 }, { name: 'http', protocol: 'TCP', port: 8080 }] });
  const m = buildModel(s, 'host-b');
  t.same(m.problems, [], 'named ports are honoured');
  t.equal(explain(s, 'default/frontend', 'default/db', 'tcp/5432').allowed, true);
  t.equal(explain(s, 'default/frontend', 'default/db', 'tcp/8080').allowed, false);
  t.equal(explain(s, 'default/frontend', 'default/db', 'udp/5432').allowed, false);
  const script = tableScript(renderTable(m));
  t.match(script, /ip daddr \. tcp dport @tern-n4-[0-9a-f]+ meta l4proto 6 accept/);
  t.match(script, /type ipv4_addr \. inet_service\n\t\telements = \{ 10\.65\.1\.1 \. 5432 \}/);
  const bad = np('default', 'not-named', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { notPorts: ['postgres'] } }] });
  t.match(buildModel(threePods({ nps: [bad] })).problems, [{ key: 'default/not-named', reason: /notPorts.*fail-closed/ }]);
});

t.test('service accounts: rule serviceAccounts and policy serviceAccountSelector', async (t) => {
  const s = snapshot({
    endpoints: [
      wep({ name: 'a', node: 'n1', iface: 'cali1', ips: ['10.0.0.1/32'], serviceAccount: 'api', profiles: ['kns.default', 'ksa.default.api'] }),
      wep({ name: 'b', node: 'n1', iface: 'cali2', ips: ['10.0.0.2/32'], serviceAccount: 'web', profiles: ['kns.default'] }),
      wep({ name: 'c', node: 'n1', iface: 'cali3', ips: ['10.0.0.3/32'], profiles: ['kns.default'] }),
    ],
    profiles: [
      profile('kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
      profile('ksa.default.api', { labelsToApply: { 'pcsa.team': 'core' } }),
    ],
    nps: [
      np('default', 'from-api', { order: 1, selector: 'all()', serviceAccountSelector: "projectcalico.org/name == 'web'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { serviceAccounts: { names: ['api'] } } }] }),
      np('default', 'from-core', { order: 2, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { serviceAccounts: { selector: "team == 'core'" } }, destination: { ports: [9000] } }] }),
    ],
  });
  const m = buildModel(s);
  t.same(m.problems, []);
  t.same(m.endpoints.find((e) => e.key === 'default/b')!.policies.ingress, ['default/from-api', 'default/from-core'], 'serviceAccountSelector picks web');
  t.same(m.endpoints.find((e) => e.key === 'default/c')!.policies.ingress, ['default/from-core']);
  t.equal(explain(s, 'default/a', 'default/b', 'tcp/80').allowed, true, 'source account api');
  t.equal(explain(s, 'default/c', 'default/b', 'tcp/80').allowed, false, 'no account');
  t.equal(explain(s, 'default/a', 'default/c', 'tcp/9000').allowed, true, 'account labels (pcsa.team) via selector');
  t.equal(explain(s, 'default/b', 'default/c', 'tcp/9000').allowed, false);
});

t.test('network sets: selectable by labels; GlobalNetworkSet only through global() namespaceSelector from a NetworkPolicy', async (t) => {
  const bad = gns('bad-hosts', { threat: 'yes' }, ['192.0.2.0/24']);
  const deny = gnp('deny-bad', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "threat == 'yes'" } }, { action: 'Allow' }] });
  const s = threePods({ gnss: [bad], gnps: [deny] });
  t.equal(explain(s, '192.0.2.7', 'default/db', 'tcp/5432').allowed, false, 'GlobalNetworkSet address denied');
  t.equal(explain(s, '198.51.100.7', 'default/db', 'tcp/5432').allowed, true);
  const nsSet = netset('default', 'partners', { partner: 'yes' }, ['203.0.113.0/24']);
  const npAllow = np('default', 'partners', {
    order: 1, selector: "role == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Allow', source: { selector: "partner == 'yes'" } }, { action: 'Allow', source: { selector: "threat == 'yes'", namespaceSelector: 'global()' } }],
  });
  const s2 = threePods({ gnss: [bad], netsets: [nsSet], nps: [npAllow] });
  t.equal(explain(s2, '203.0.113.9', 'default/db', 'tcp/1').allowed, true, 'NetworkSet in the policy namespace');
  t.equal(explain(s2, '192.0.2.9', 'default/db', 'tcp/1').allowed, true, 'GlobalNetworkSet via namespaceSelector global()');
  const npNoGlobal = np('default', 'p', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "threat == 'yes'" } }] });
  t.equal(explain(threePods({ gnss: [bad], nps: [npNoGlobal] }), '192.0.2.9', 'default/db', 'tcp/1').allowed, false, 'a NetworkPolicy selector stays in its namespace');
});

t.test('fields tern cannot honour fail closed and are reported; HTTP match is ignored as Felix', async (t) => {
  const svc = gnp('to-svc', { order: 1, selector: "role == 'frontend'", types: ['Egress'], egress: [{ action: 'Allow', destination: { services: { name: 'db', namespace: 'default' } } }] });
  const s = threePods({ gnps: [svc] });
  const m = buildModel(s);
  t.match(m.problems, [{ kind: 'GlobalNetworkPolicy', key: 'to-svc', reason: /services.*fail-closed/ }]);
  t.equal(explain(s, 'default/frontend', 'default/db', 'tcp/5432').allowed, false, 'services: deny, never allow-all');
  t.equal(explain(s, 'default/frontend', '198.51.100.1', 'tcp/443').allowed, false);
  const http = gnp('http', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', http: { methods: ['GET'] } }] });
  const h = threePods({ gnps: [http] });
  t.same(buildModel(h).problems, []);
  t.match(explain(h, 'default/frontend', 'default/db', 'tcp/80').ingress!.reason, /http match ignored/);
});

t.test('notNets with no CIDR of a family drops the rule for that family (FilterRuleToIPVersion)', async (t) => {
  const p = gnp('nn', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', notProtocol: 'UDP', source: { notNets: ['10.99.0.0/16'] } }] });
  const s = threePods({ gnps: [p] }, { v6: true });
  t.equal(explain(s, 'default/frontend', 'default/db', 'tcp/5432').allowed, true, 'IPv4 outside notNets');
  t.equal(explain(s, 'fd00:65::1', 'fd00:65:1::1', 'tcp/5432').allowed, false, 'IPv6: the rule does not exist, end of tier');
});

t.test('doNotTrack and preDNAT policies never select workloads', async (t) => {
  const p = gnp('untracked', { order: 1, selector: 'all()', doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Deny' }] });
  const m = buildModel(threePods({ gnps: [p] }), 'host-b');
  t.same(m.endpoints[0]!.policies.ingress, []);
});

t.test('workload to host: egress policy, then DefaultEndpointToHostAction', async (t) => {
  const s = threePods({ nodes: [node('host-b', '192.168.77.2/24')] });
  const r = explain(s, 'default/db', '192.168.77.2', 'tcp/22');
  t.equal(r.allowed, false, 'Drop by default, although the profile allows egress');
  t.match(r.egress!.reason, /DefaultEndpointToHostAction Drop/);
  t.equal(explain(s, 'default/db', '192.168.77.2', 'tcp/22', 'Accept').allowed, true, 'Accept: the egress verdict stands');
  const egressDeny = gnp('no-egress', { order: 1, selector: "role == 'db'", types: ['Egress'] });
  t.equal(explain(threePods({ nodes: [node('host-b', '192.168.77.2/24')], gnps: [egressDeny] }), 'default/db', '192.168.77.2', 'tcp/22', 'Accept').allowed, false);
  t.equal(explain(s, 'default/frontend', '192.168.77.2', 'tcp/22').allowed, true, 'another node is not this workload\'s host');
  const script = tableScript(renderTable(buildModel(s, 'host-b'), { endpointToHostAction: 'Accept' }));
  t.match(script, /type filter hook input priority filter \+ 10; policy accept;\n\t\tiifname != "cali\*" accept\n\t\tct state established,related accept\n[^\n]+\n\t\tiifname vmap @tern-from-wl-dispatch/);
});

t.test('anti-spoofing and workload IPIP/VXLAN', async (t) => {
  const s = threePods();
  t.match(explain(s, '10.65.0.2', 'default/db', 'tcp/1').text, /ALLOWED/);
  t.match(explain(s, 'default/db', '10.9.9.9', '4').egress!.reason, /IPIP/);
  t.match(explain(s, 'default/db', '10.9.9.9', 'udp/4789').egress!.reason, /VXLAN/);
  const script = tableScript(renderTable(buildModel(s, 'host-b')));
  t.match(script, /meta nfproto ipv4 ip saddr != 10\.65\.1\.1\/32 drop comment "anti-spoofing"/);
});

t.test('minimalCover: linear sweep drops covered prefixes', async (t) => {
  t.same(minimalCover(['10.0.0.1/32', '10.0.0.0/24', '10.0.1.0/24', '10.0.0.0/16', '10.1.0.5/32', '10.1.0.5/32']), ['10.0.0.0/16', '10.1.0.5/32']);
  t.same(minimalCover(['fd00::1/128', 'fd00::/64', 'fd01::/64']), ['fd00::/64', 'fd01::/64']);
  const many = Array.from({ length: 20_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
  const t0 = Date.now();
  t.equal(minimalCover([...many, '10.0.0.0/8']).length, 1);
  t.comment(`20 000 addresses: ${Date.now() - t0} ms`);
});
