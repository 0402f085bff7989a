// Host endpoint policy, pure: which stage each policy lands in, the rendered chains, and the
// verdict model (explain-host.ts) — failsafe ports, precedence doNotTrack > preDNAT > normal,
// stateless doNotTrack, applyOnForward.
import t from 'tap';
import { buildModel } from '../../src/acl/model.js';
import { renderTable, tableScript } from '../../src/acl/render.js';
import { explain } from '../../src/acl/explain.js';
import { evaluateHostEndpoint } from '../../src/acl/explain-host.js';
import { failsafeOptions, parseFailsafe } from '../../src/acl/hostendpoints.js';
import { needsInterfaces, parseIpAddr } from '../../src/acl/interfaces.js';
import type { Packet } from '../../src/acl/explain.js';
import { ALLOW_ALL, gnp, hep, node, np, profile, snapshot, threePods } from './fixtures/resources.js';
import type { GlobalNetworkPolicyResource, HostEndpointResource } from '../../src/model/types.js';

const ETH0 = hep('hb-eth0', { role: 'node' }, { node: 'host-b', interfaceName: 'eth0', expectedIPs: ['192.168.77.2'] });
const tcp = (dstPort: number, srcPort = 40000, src = '192.168.77.1', dst = '192.168.77.2'): Packet => ({ family: 4, protocol: 6, src, dst, srcPort, dstPort });
const denyIn = (port: number, extra: Partial<GlobalNetworkPolicyResource['spec']> = {}): GlobalNetworkPolicyResource =>
  gnp(`deny-${port}`, { order: 10, selector: "role == 'node'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [port] } }, { action: 'Allow' }], ...extra });
const model = (gnps: GlobalNetworkPolicyResource[], heps: HostEndpointResource[] = [ETH0], profiles = [profile('allow-all', ALLOW_ALL)]) =>
  buildModel(snapshot({ heps, gnps, profiles }), 'host-b');

t.test('stages: doNotTrack, preDNAT, normal and applyOnForward as Felix places them', async (t) => {
  const m = model([
    gnp('u', { order: 1, selector: 'all()', doNotTrack: true, applyOnForward: true, types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    gnp('d', { order: 2, selector: 'all()', preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Deny' }] }),
    gnp('n', { order: 3, selector: 'all()', types: ['Ingress', 'Egress'] }),
    gnp('f', { order: 4, selector: 'all()', applyOnForward: true, types: ['Ingress'] }),
    gnp('other', { order: 5, selector: "role == 'nobody'" }),
  ], [ETH0, hep('ha-eth0', {}, { node: 'host-a', interfaceName: 'eth0' })]);
  t.same(m.problems, []);
  t.equal(m.hostEndpoints.length, 1, "only this node's host endpoints");
  const s = m.hostEndpoints[0]!.stages;
  t.same(s.untracked.ingress, [{ tier: 'default', defaultAction: 'Pass', policies: ['u'] }]);
  t.same(s.untracked.egress.map((x) => x.policies), [['u']]);
  t.same(s.preDNAT.ingress, [{ tier: 'default', defaultAction: 'Pass', policies: ['d'] }]);
  t.same(s.preDNAT.egress, []);
  t.same(s.normal.ingress, [{ tier: 'default', defaultAction: 'Deny', policies: ['n', 'f'] }]);
  t.same(s.normal.egress.map((x) => x.policies), [['n']]);
  t.same(s.forward.ingress.map((x) => x.policies), [['f']]);
  t.same(s.forward.egress, []);
});

t.test('a NetworkPolicy never selects a host endpoint; problems for what is not enforced', async (t) => {
  const s = snapshot({
    heps: [ETH0, hep('by-ip', {}, { node: 'host-b', expectedIPs: ['192.168.77.2'] }), hep('all', { role: 'node' }, { node: 'host-b', interfaceName: '*' })],
    nps: [np('default', 'np', { selector: 'all()', types: ['Ingress'] })],
    gnps: [gnp('u', { selector: "role == 'node'", doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Allow' }] })],
  });
  const m = buildModel(s, 'host-b');
  t.same(m.hostEndpoints.map((h) => [h.key, h.iface]), [['all', '*'], ['by-ip', ''], ['hb-eth0', 'eth0']], 'by-ip: interface unknown (kept for explain)');
  t.same(m.hostEndpoints[2]!.stages.normal.ingress, [], 'the NetworkPolicy does not select it');
  t.match(m.problems, [
    { kind: 'HostEndpoint', key: 'all', reason: /doNotTrack.*"\*".*ignored/ },
    { kind: 'HostEndpoint', key: 'by-ip', reason: /no interfaceName/ },
  ]);
  t.same(m.hostEndpoints[0]!.stages.untracked.ingress, [], 'doNotTrack on * is dropped, as Felix');
  t.same(buildModel(threePods({}), 'host-b').problems, [], 'no host endpoint: nothing reported');
});

t.test('no interfaceName: every interface holding one of the expectedIPs, as Felix', async (t) => {
  const byIp = hep('by-ip', { role: 'node' }, { node: 'host-b', expectedIPs: ['192.168.77.2', 'fd00:77::2'] });
  const s = snapshot({ heps: [byIp], gnps: [denyIn(8080)] });
  t.equal(needsInterfaces(s, 'host-b'), true);
  t.equal(needsInterfaces(snapshot({ heps: [ETH0] }), 'host-b'), false);
  const ifaces = parseIpAddr(JSON.stringify([
    { ifname: 'lo', addr_info: [{ local: '127.0.0.1' }] },
    { ifname: 'eth0', addr_info: [{ local: '192.168.77.2' }] },
    { ifname: 'eth1', addr_info: [{ local: 'FD00:77:0::2' }, { local: '10.0.0.1' }] },
  ]));
  const m = buildModel(s, 'host-b', ifaces);
  t.same(m.problems, []);
  t.same(m.hostEndpoints.map((h) => [h.key, h.iface]), [['by-ip', 'eth0'], ['by-ip', 'eth1']], 'IPv6 compared in canonical form');
  t.match(tableScript(renderTable(m)), /iifname "eth0" goto tern-hi-eth0\n\t\tiifname "eth1" goto tern-hi-eth1/);
  const unknown = buildModel(s, 'host-b');
  t.match(unknown.problems, [{ kind: 'HostEndpoint', key: 'by-ip', reason: /addresses are unknown/ }], 'without the addresses: reported');
  t.notMatch(tableScript(renderTable(unknown)), /tern-hep/, 'and not rendered');
  t.match(explain(s, '192.168.77.1', '192.168.77.2', 'tcp/8080'), { allowed: false, ingress: { endpoint: /by-ip \(the interface of its expectedIPs\)/ } }, 'explain judges it by address');
  const named = buildModel(snapshot({ heps: [byIp, hep('a-named', {}, { node: 'host-b', interfaceName: 'eth0' })] }), 'host-b', ifaces);
  t.same(named.hostEndpoints.map((h) => [h.key, h.iface]), [['a-named', 'eth0'], ['by-ip', 'eth1']], 'the smaller name wins eth0');
  t.match(named.problems, [{ key: 'by-ip', reason: /eth0 is already policed by host endpoint a-named/ }]);
});

t.test('failsafe port lists parse as Felix writes them', async (t) => {
  t.same(parseFailsafe('tcp:22, udp:68,179'), [{ protocol: 'tcp', port: 22 }, { protocol: 'udp', port: 68 }, { protocol: 'tcp', port: 179 }]);
  t.same(parseFailsafe('none'), []);
  t.throws(() => parseFailsafe('icmp:1'), /PROTOCOL:PORT/);
  t.same(failsafeOptions(undefined, 'none'), { failsafeOutbound: [] });
  const s = snapshot({ heps: [ETH0], gnps: [denyIn(22)] });
  t.equal(explain(s, '192.168.77.1', '192.168.77.2', 'tcp/22').allowed, true, 'tcp/22 is failsafe by default');
  t.match(explain(s, '192.168.77.1', '192.168.77.2', 'tcp/22', 'Drop', { inbound: parseFailsafe('tcp:2222'), outbound: [] }),
    { allowed: false, ingress: { reason: /deny-22/ } }, 'not with another inbound list');
});

t.test('render: hooks, dispatch by interface, failsafe first, untracked and preDNAT verdicts', async (t) => {
  t.notMatch(tableScript(renderTable(buildModel(threePods({}), 'host-b'))), /tern-hep/, 'no host endpoint: no host chains');
  const m = model([
    denyIn(8080),
    gnp('u', { order: 1, selector: 'all()', doNotTrack: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [9000] } }] }),
    gnp('d', { order: 2, selector: 'all()', preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [7000] } }] }),
  ], [ETH0, hep('all', {}, { node: 'host-b', interfaceName: '*', profiles: ['allow-all'] })]);
  const script = tableScript(renderTable(m));
  t.match(script, /chain tern-hep-raw-pre \{\n\t\ttype filter hook prerouting priority raw \+ 10; policy accept;\n\t\tmeta mark set meta mark & 0xfffeffff\n\t\tiifname "cali\*" accept\n\t\tiifname "eth0" goto tern-hui-eth0\n\t\}/);
  t.match(script, /chain tern-hep-prednat \{\n\t\ttype filter hook prerouting priority mangle \+ 10;/);
  t.match(script, /chain tern-hep-in \{\n\t\ttype filter hook input priority filter \+ 12; policy accept;\n\t\tiifname "cali\*" accept\n\t\tmeta mark & 0x00010000 == 0x00010000 accept\n\t\tiifname "eth0" goto tern-hi-eth0\n\t\tgoto tern-hi-_-[0-9a-f]{8}\n/, 'named interface first, then *');
  t.match(script, /chain tern-upi-u \{[^}]*th dport 9000 meta mark set meta mark \| 0x00010000 notrack accept/);
  t.match(script, /chain tern-dpi-d \{[^}]*th dport 7000 meta mark set meta mark \| 0x00010000 accept/);
  t.match(script, /chain tern-hi-eth0 \{[^}]*ct state established,related accept\n\t\tct state invalid drop\n\t\ttcp dport \{ 22, 179, 2379, 2380, 5473, 6443, 6666, 6667 \} accept[\s\S]*?jump tern-pi-deny-8080\n[^}]*drop comment "end of tier default"/);
  t.match(script, /chain tern-hfi-eth0 \{[^}]*accept comment "no applyOnForward policy/);
  t.match(script, /chain tern-hi-_-[0-9a-f]{8} \{[\s\S]*?jump tern-pri-allow-all\n\t\tdrop comment "no profile allowed"/, 'profiles of the * endpoint');
  const noFailsafe = tableScript(renderTable(m, { failsafeInbound: [], failsafeOutbound: [] }));
  t.notMatch(noFailsafe, /failsafe (reply )?(tcp|udp)/, 'failsafe ports come from the render options');
});

t.test('verdicts: Deny blocks a port, failsafe stays open, default deny without policy', async (t) => {
  const m = model([denyIn(8080)]);
  const h = m.hostEndpoints[0]!;
  t.equal(evaluateHostEndpoint(m, h, 'to-host', tcp(8080)).allowed, false);
  t.equal(evaluateHostEndpoint(m, h, 'to-host', tcp(8081)).allowed, true);
  t.match(evaluateHostEndpoint(m, h, 'to-host', tcp(22)), { allowed: true, reason: /failsafe port 22/ });
  t.match(evaluateHostEndpoint(m, h, 'from-host', tcp(443, 40000, '192.168.77.2', '192.168.77.1')), { allowed: false, reason: /no policy selects/ });
  t.equal(evaluateHostEndpoint(m, h, 'from-host', tcp(179, 40000, '192.168.77.2', '192.168.77.1')).allowed, true, 'outbound failsafe tcp/179');
  const open = model([], [hep('all', {}, { node: 'host-b', interfaceName: '*', profiles: ['allow-all'] })]);
  t.equal(evaluateHostEndpoint(open, open.hostEndpoints[0]!, 'to-host', tcp(8080)).allowed, true, 'a profile that allows');
  const auto = model([], [hep('node-auto', {}, { node: 'host-b', interfaceName: '*', profiles: ['projectcalico-default-allow'] })], []);
  t.match(evaluateHostEndpoint(auto, auto.hostEndpoints[0]!, 'to-host', tcp(8080)), { allowed: true, reason: /profile projectcalico-default-allow/ },
    'Calico\'s built-in projectcalico-default-allow profile, absent from the datastore, allows (automatic host endpoints)');
  t.match(tableScript(renderTable(auto)), /chain tern-pri-projectcalico-default-allow \{[^}]*\n\t\taccept\n/);
  const r = explain(snapshot({ heps: [ETH0], gnps: [denyIn(8080)] }), '192.168.77.1', '192.168.77.2', 'tcp/8080');
  t.match(r, { allowed: false, ingress: { endpoint: /HostEndpoint hb-eth0/, reason: /deny-8080 .*rule 1/ } });
  t.equal(explain(snapshot({ heps: [ETH0], gnps: [denyIn(8080)] }), '192.168.77.1', 'hb-eth0', 'tcp/22').allowed, true, 'by name');
});

t.test('precedence: doNotTrack, then preDNAT, then normal policy', async (t) => {
  const untrackedAllow = gnp('u', { order: 50, selector: 'all()', doNotTrack: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }] });
  const preDeny = gnp('d', { order: 1, selector: 'all()', preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [8080] } }] });
  const preAllow = gnp('d', { order: 1, selector: 'all()', preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }] });
  const normalDeny = denyIn(8080);
  const v = (gnps: GlobalNetworkPolicyResource[]) => { const m = model(gnps); return evaluateHostEndpoint(m, m.hostEndpoints[0]!, 'to-host', tcp(8080)); };
  t.match(v([untrackedAllow, preDeny, normalDeny]), { allowed: true, reason: /doNotTrack .*untracked/ }, 'a doNotTrack Allow wins over a lower-order preDNAT Deny');
  t.match(v([preDeny]), { allowed: false, reason: /preDNAT/ });
  t.match(v([preAllow, normalDeny]), { allowed: true, reason: /before DNAT; normal policy skipped/ });
  t.match(v([normalDeny]), { allowed: false, reason: /host global policy deny-8080/ });
  const m = model([untrackedAllow]);
  const reply = tcp(40000, 8080, '192.168.77.2', '192.168.77.1');
  t.match(evaluateHostEndpoint(m, m.hostEndpoints[0]!, 'from-host', reply), { allowed: false }, 'stateless: the reply is denied without its own Allow');
  const both = gnp('u', { ...untrackedAllow.spec, types: ['Ingress', 'Egress'], egress: [{ action: 'Allow', protocol: 'TCP', source: { ports: [8080] } }] });
  const m2 = model([both]);
  t.equal(evaluateHostEndpoint(m2, m2.hostEndpoints[0]!, 'from-host', reply).allowed, true, 'with an untracked egress Allow');
});

t.test('applyOnForward: forwarded traffic is allowed unless applyOnForward policy selects the endpoint', async (t) => {
  const fwd = (applyOnForward: boolean) => { const m = model([denyIn(8080, { applyOnForward })]); return evaluateHostEndpoint(m, m.hostEndpoints[0]!, 'forward-in', tcp(8080, 40000, '192.168.77.1', '10.65.1.1')); };
  t.match(fwd(false), { allowed: true, reason: /no applyOnForward policy/ });
  t.match(fwd(true), { allowed: false, reason: /applyOnForward global policy deny-8080/ });
  const m = model([denyIn(8080, { applyOnForward: true })]);
  t.equal(evaluateHostEndpoint(m, m.hostEndpoints[0]!, 'forward-out', tcp(8080)).allowed, true, 'the policy is ingress only');
});

// explain() judged a flow from a node's host endpoint address to a workload of the same node
// by the host endpoint's egress and the workload's ingress; the kernel (and Felix, whose
// OUTPUT chain returns for workload interfaces) polices neither (host-kernel.test.ts checks
// the wire).
t.test("the host reaching its own workload is not policed; another node's workload is", async (t) => {
  const noIngress = gnp('db-no-ingress', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny' }] });
  const s = { ...threePods({ gnps: [noIngress], nodes: [node('host-a', '192.168.77.1/24'), node('host-b', '192.168.88.2/24')] }), hostEndpoints: new Map([[ETH0.metadata.name, ETH0]]) };
  const own = explain(s, '192.168.77.2', 'default/db', 'tcp/5432');
  t.match(own, { allowed: true, egress: null, ingress: null }, own.text);
  t.match(own.text, /not policed/);
  const nodeAddr = explain(s, '192.168.88.2', 'default/db', 'tcp/5432');
  t.equal(nodeAddr.allowed, true, `a Node address to its own workload: ${nodeAddr.text}`);
  const other = explain(s, '192.168.77.2', 'default/frontend', 'tcp/80');
  t.match(other, { allowed: false, egress: { allowed: false } }, `host-b to a workload of host-a: host endpoint egress (default deny) applies\n${other.text}`);
  const away = explain(s, '192.168.77.1', 'default/db', 'tcp/5432');
  t.match(away, { allowed: false, ingress: { allowed: false } }, `host-a to db on host-b: db's ingress applies\n${away.text}`);
});
