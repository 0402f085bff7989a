import t from 'tap';
import { shapeRoute, sameSubnet, blackholeFor, routeSignature, poolFor, type Pool, type ShapeContext } from '../../src/fib/route-shape.js';
import { parsePrefix } from '../../src/net/prefix.js';

const eth0 = { prefix: '10.0.0.0/24', ifindex: 2, dev: 'eth0' };
const eth1v6 = { prefix: 'fd00:0:0:1::/64', ifindex: 3, dev: 'eth1' };
const tunnel = { name: 'tunl0', ifindex: 9, up: true };

function ctx(pools: Pool[], extra: Partial<ShapeContext> = {}): ShapeContext {
  return { pools, nodeSubnetV4: '10.0.0.0/24', connected: [eth0, eth1v6], tunnel, protocol: 12, table: 254, ...extra };
}
const pool = (cidr: string, ipipMode: Pool['ipipMode'], vxlanMode: Pool['vxlanMode'] = 'never'): Pool => ({ cidr, ipipMode, vxlanMode });

t.test('ipipMode never: via NH dev <connected interface>', async (t) => {
  const s = shapeRoute('10.244.1.0/26', ['10.0.0.12'], ctx([pool('10.244.0.0/16', 'never')]));
  t.same(s, {
    kind: 'route', dropped: [],
    route: { prefix: '10.244.1.0/26', family: 'ipv4', table: 254, protocol: 12, type: 'unicast', metric: 0,
      nextHops: [{ gateway: '10.0.0.12', ifindex: 2, dev: 'eth0', onlink: false }] },
  });
});

t.test('ipipMode always: via NH dev tunl0 onlink, even on the same subnet', async (t) => {
  const s = shapeRoute('10.244.1.0/26', ['10.0.0.12'], ctx([pool('10.244.0.0/16', 'always')]));
  t.equal(s.kind, 'route');
  if (s.kind === 'route') t.same(s.route.nextHops, [{ gateway: '10.0.0.12', ifindex: 9, dev: 'tunl0', onlink: true }]);
});

t.test('crossSubnet: same subnet direct, other subnet tunl0', async (t) => {
  const c = ctx([pool('10.244.0.0/16', 'crossSubnet')], { connected: [eth0, { prefix: '10.1.0.0/24', ifindex: 4, dev: 'eth2' }] });
  const same = shapeRoute('10.244.1.0/26', ['10.0.0.12'], c);
  const other = shapeRoute('10.244.2.0/26', ['10.1.0.12'], c);
  t.equal(same.kind === 'route' && same.route.nextHops[0]?.dev, 'eth0');
  t.equal(same.kind === 'route' && same.route.nextHops[0]?.onlink, false);
  // a connected route covers 10.1.0.12, but it is outside the node subnet: Calico tunnels
  t.equal(other.kind === 'route' && other.route.nextHops[0]?.dev, 'tunl0');
  t.equal(other.kind === 'route' && other.route.nextHops[0]?.onlink, true);
});

t.test('crossSubnet with a /32 node address uses the connected route (Calico pain point 6)', async (t) => {
  const c = ctx([pool('10.244.0.0/16', 'crossSubnet')], { nodeSubnetV4: '10.0.0.11/32' });
  t.equal(sameSubnet('10.0.0.12', c), true);
  t.equal(sameSubnet('10.5.0.12', c), false);
  const s = shapeRoute('10.244.1.0/26', ['10.0.0.12'], c);
  t.equal(s.kind === 'route' && s.route.nextHops[0]?.dev, 'eth0');
  const r = shapeRoute('10.244.1.0/26', ['10.5.0.12'], c);
  t.equal(r.kind === 'route' && r.route.nextHops[0]?.dev, 'tunl0');
  // no subnet at all behaves like /32
  t.equal(sameSubnet('10.0.0.12', ctx([], { nodeSubnetV4: undefined })), true);
});

t.test('outside every pool: direct; unreachable next hop is unresolved', async (t) => {
  const s = shapeRoute('192.168.50.0/24', ['10.0.0.1'], ctx([pool('10.244.0.0/16', 'always')]));
  t.equal(s.kind === 'route' && s.route.nextHops[0]?.dev, 'eth0');
  const u = shapeRoute('192.168.50.0/24', ['10.9.9.9'], ctx([]));
  t.same(u, { kind: 'unresolved', problem: 'unreachable', reason: 'next hop 10.9.9.9 unreachable: no connected route covers it' });
});

t.test('vxlan pools are skipped (Felix programs them)', async (t) => {
  const s = shapeRoute('10.245.1.0/26', ['10.0.0.12'], ctx([pool('10.245.0.0/16', 'never', 'always')]));
  t.equal(s.kind, 'skip');
  const c = shapeRoute('10.245.1.0/26', ['10.0.0.12'], ctx([pool('10.245.0.0/16', 'never', 'crossSubnet')]));
  t.equal(c.kind, 'skip');
});

t.test('tunl0 missing or down: unresolved with a reason', async (t) => {
  const p = [pool('10.244.0.0/16', 'always')];
  t.same(shapeRoute('10.244.1.0/26', ['10.0.0.12'], ctx(p, { tunnel: undefined })),
    { kind: 'unresolved', problem: 'tunnel-missing', reason: 'tunl0 missing' });
  t.same(shapeRoute('10.244.1.0/26', ['10.0.0.12'], ctx(p, { tunnel: { ...tunnel, up: false } })),
    { kind: 'unresolved', problem: 'tunnel-down', reason: 'tunl0 is down' });
});

t.test('ECMP: one route, sorted next hops, at most 16', async (t) => {
  const nhs = Array.from({ length: 20 }, (_, i) => `10.0.0.${40 - i}`);
  const s = shapeRoute('10.244.1.0/26', [...nhs, '10.0.0.40'], ctx([pool('10.244.0.0/16', 'never')]));
  t.equal(s.kind, 'route');
  if (s.kind !== 'route') return;
  t.equal(s.route.nextHops.length, 16);
  t.same(s.route.nextHops.map((n) => n.gateway), Array.from({ length: 16 }, (_, i) => `10.0.0.${21 + i}`));
  const two = shapeRoute('10.244.1.0/26', ['10.0.0.13', '10.0.0.12'], ctx([pool('10.244.0.0/16', 'never')]));
  t.same(two.kind === 'route' && two.route.nextHops.map((n) => n.gateway), ['10.0.0.12', '10.0.0.13']);
});

t.test('ECMP with one unreachable hop keeps the others', async (t) => {
  const s = shapeRoute('10.244.1.0/26', ['10.0.0.12', '10.9.9.9'], ctx([pool('10.244.0.0/16', 'never')]));
  t.equal(s.kind, 'route');
  if (s.kind !== 'route') return;
  t.same(s.route.nextHops.map((n) => n.gateway), ['10.0.0.12']);
  t.same(s.dropped, [{ nextHop: '10.9.9.9', problem: 'unreachable' }]);
});

t.test('IPv6: never IPIP, direct via the connected interface, metric 1024', async (t) => {
  const s = shapeRoute('fd00:10:244::/122', ['fd00:0:0:1::12'], ctx([pool('fd00:10:244::/48', 'always')]));
  t.equal(s.kind, 'route');
  if (s.kind !== 'route') return;
  t.equal(s.route.family, 'ipv6');
  t.equal(s.route.metric, 1024);
  t.same(s.route.nextHops, [{ gateway: 'fd00:0:0:1::12', ifindex: 3, dev: 'eth1', onlink: false }]);
  // IPv4 next hops on an IPv6 prefix are ignored
  t.equal(shapeRoute('fd00:10:244::/122', ['10.0.0.12'], ctx([])).kind, 'skip');
});

t.test('blackhole and signatures', async (t) => {
  t.same(blackholeFor('10.244.1.0/26', 12, 254), { prefix: '10.244.1.0/26', family: 'ipv4', table: 254, protocol: 12, type: 'blackhole', nextHops: [], metric: 0 });
  const a = { prefix: 'x', family: 'ipv4' as const, table: 254, protocol: 12, type: 'unicast' as const, metric: 0,
    nextHops: [{ gateway: '10.0.0.1', ifindex: 2, onlink: false }, { gateway: '10.0.0.2', ifindex: 2, onlink: false }] };
  t.equal(routeSignature(a), routeSignature({ ...a, nextHops: [...a.nextHops].reverse() }));
  t.not(routeSignature(a), routeSignature({ ...a, nextHops: [a.nextHops[0]!] }));
});

t.test('poolFor: an IPv4 prefix given as text (numeric path) and parsed (byte path) give the same pool', async (t) => {
  const pools: Pool[] = [
    { cidr: '10.244.0.0/16', ipipMode: 'never', vxlanMode: 'never' },
    { cidr: '10.244.128.0/17', ipipMode: 'always', vxlanMode: 'never' },
    { cidr: '10.244.128.0/17', ipipMode: 'crossSubnet', vxlanMode: 'never' }, // a tie: the first wins
    { cidr: 'fd00::/48', ipipMode: 'never', vxlanMode: 'never' },
    { cidr: '192.168.7.0/24', ipipMode: 'never', vxlanMode: 'never' },
    { cidr: '0.0.0.0/0', ipipMode: 'never', vxlanMode: 'always' },
  ];
  const cases = ['10.244.1.0/26', '10.244.200.64/26', '10.244.128.0/17', '10.244.0.0/15', '10.243.255.0/24',
    '192.168.7.128/25', '192.168.7.0/23', '1.2.3.4/32', '0.0.0.0/0', 'fd00::/64', 'fd00:1::/64'];
  for (const c of cases) t.equal(poolFor(c, pools), poolFor(parsePrefix(c), pools), c);
  t.equal(poolFor('10.244.200.64/26', pools), pools[1], 'longest match, the first on ties');
  t.equal(poolFor('10.243.255.0/24', pools.slice(0, 5)), undefined, 'outside every IPv4 pool');
  t.equal(poolFor('10.244.1.0/26', []), undefined);
});
