// calico-node's node-identity environment: IP, IP6, *_AUTODETECTION_METHOD, CALICO_ROUTER_ID, AS, BGP_LOGSEVERITYSCREEN.
import t from 'tap';
import { parseAsNumber } from '../../src/model/asn.js';
import { resolveIdentity } from '../../src/cli/identity.js';
import { deriveNodeConfig, hashRouterId } from '../../src/peering/derive.js';
import { node, snapshot } from '../peering/fixtures/snapshot.js';

t.test('IP / IP6: literal, autodetect, none, unset', async (t) => {
  t.same(resolveIdentity({}, {}), { ipv4: { kind: 'autodetect', method: { kind: 'first-found' }, always: false }, ipv6: { kind: 'none' } });
  t.same(resolveIdentity({}, { IP: '10.0.0.11/24', IP6: 'fd00::11' }).ipv4, { kind: 'literal', value: '10.0.0.11/24' });
  t.same(resolveIdentity({}, { IP6: 'FD00:0::11/64' }).ipv6, { kind: 'literal', value: 'fd00::11/64' });
  t.same(resolveIdentity({ ip: '10.0.0.12/24' }, { IP: '10.0.0.11/24' }).ipv4, { kind: 'literal', value: '10.0.0.12/24' }, 'the flag wins');
  t.same(resolveIdentity({}, { IP: 'autodetect', IP_AUTODETECTION_METHOD: 'cidr=10.0.0.0/8' }).ipv4, { kind: 'autodetect', method: { kind: 'cidr', cidrs: ['10.0.0.0/8'] }, always: true });
  t.same(resolveIdentity({}, { IP6: 'autodetect', IP6_AUTODETECTION_METHOD: 'can-reach=fd00::1' }).ipv6, { kind: 'autodetect', method: { kind: 'can-reach', destination: 'fd00::1' }, always: true });
  t.same(resolveIdentity({}, { IP: 'none' }).ipv4, { kind: 'none' });
  t.throws(() => resolveIdentity({}, { IP: 'fd00::1' }), /IP="fd00::1": "fd00::1" is not an IPv4 address/);
  t.throws(() => resolveIdentity({}, { IP: '10.0.0.1/40' }), /bad prefix length/);
  t.throws(() => resolveIdentity({}, { IP_AUTODETECTION_METHOD: 'magic' }), /IP_AUTODETECTION_METHOD="magic": unknown method/);
});

t.test('AS, CALICO_ROUTER_ID, BGP_LOGSEVERITYSCREEN', async (t) => {
  t.equal(parseAsNumber('64512'), 64512);
  t.equal(parseAsNumber('1.10'), 65546, 'dotted');
  t.throws(() => parseAsNumber('0'), /not an AS number/);
  t.throws(() => parseAsNumber('4294967296'), /not an AS number/);
  const id = resolveIdentity({}, { AS: '65010', CALICO_ROUTER_ID: 'hash', BGP_LOGSEVERITYSCREEN: 'debug' });
  t.equal(id.asNumber, 65010);
  t.equal(id.routerId, 'hash');
  t.equal(id.logSeverityScreen, 'debug');
  t.equal(resolveIdentity({}, { CALICO_ROUTER_ID: '10.9.9.9' }).routerId, '10.9.9.9');
  t.throws(() => resolveIdentity({}, { CALICO_ROUTER_ID: 'fd00::1' }), /CALICO_ROUTER_ID="fd00::1": must be an IPv4 address or "hash"/);
});

t.test('router id: hash of the node name (IPv6-only nodes), or an explicit address', async (t) => {
  const id = hashRouterId('node-a');
  t.match(id, /^\d+\.\d+\.\d+\.\d+$/);
  t.ok(Number(id.split('.')[0]) <= 223, 'never in 224.0.0.0/3');
  const snap = snapshot([node('v6only', { ipv6Address: 'fd00::11/64' }), node('b', { ipv6Address: 'fd00::12/64' })]);
  t.throws(() => deriveNodeConfig(snap, 'v6only'), /CALICO_ROUTER_ID/, 'without a router id an IPv6-only node cannot run');
  const cfg = deriveNodeConfig(snap, 'v6only', { routerId: 'hash' });
  t.equal(cfg.routerId, hashRouterId('v6only'));
  t.same(cfg.peers.map((p) => [p.name, p.family]), [['Mesh_fd00__12', 'ipv6']], 'IPv6 mesh only');
  t.equal(deriveNodeConfig(snap, 'v6only', { routerId: '10.9.9.9' }).routerId, '10.9.9.9');
});
