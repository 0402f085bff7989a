// What counts as learned (status.ts): pool routes as BIRD `learn` imports them, and the extra
// routes held for BGPFilter export (out-of-pool alien routes, connected subnets). Pure.
import t from 'tap';
import { extraLearnable, isLearnable } from '../../src/fib/status.js';
import type { Pool } from '../../src/fib/route-shape.js';

const pools: Pool[] = [{ cidr: '10.244.0.0/16', ipipMode: 'never', vxlanMode: 'never' }];
const dev = (protocol: number, scope?: number) => ({ protocol, type: 'unicast' as const, scope, nextHops: [{ ifindex: 2, onlink: false }] });
const via = (protocol: number) => ({ protocol, type: 'unicast' as const, nextHops: [{ gateway: '10.0.0.1', ifindex: 2, onlink: false }] });

t.test('extraLearnable: connected subnets of non-Calico devices', async (t) => {
  t.equal(extraLearnable('10.0.0.0/24', dev(2, 253), 12, pools, 'eth0'), 'direct');
  t.equal(extraLearnable('10.0.0.0/24', dev(2, 253), 12, pools, 'cali12ab'), undefined, 'cali*');
  t.equal(extraLearnable('10.0.0.0/24', dev(2, 253), 12, pools, 'kube-ipvs0'), undefined, 'kube-ipvs*');
  t.equal(extraLearnable('10.0.0.0/24', dev(2, 0), 12, pools, 'eth0'), undefined, 'IPv4 not scope link');
  t.equal(extraLearnable('10.0.0.0/24', via(2), 12, pools, 'eth0'), undefined, 'via a gateway: not a subnet');
  t.equal(extraLearnable('fd00:5::/64', dev(2, 0), 12, pools, 'eth0'), 'direct', 'IPv6 global');
  t.equal(extraLearnable('fe80::/64', dev(2, 0), 12, pools, 'eth0'), undefined, 'IPv6 link-local');
  t.equal(extraLearnable('10.244.3.0/24', dev(2, 253), 12, pools, 'eth0'), 'direct', 'a subnet inside a pool is still connected');
});

t.test('extraLearnable: alien kernel routes outside pools, never tern-shaped ones', async (t) => {
  t.equal(extraLearnable('198.51.100.0/24', via(4), 12, pools, 'eth0'), 'kernel', 'proto static via a gateway');
  t.equal(extraLearnable('0.0.0.0/0', via(16), 12, pools, 'eth0'), 'kernel', 'a DHCP default route');
  t.equal(extraLearnable('198.51.100.0/24', { protocol: 4, type: 'blackhole', nextHops: [] }, 12, pools, ''), 'kernel');
  t.equal(extraLearnable('198.51.100.0/24', via(12), 12, pools, 'eth0'), undefined, 'proto bird via a gateway: like ours');
  t.equal(extraLearnable('198.51.100.0/24', via(1), 12, pools, 'eth0'), undefined, 'redirect');
  t.equal(extraLearnable('10.244.7.0/26', via(4), 12, pools, 'eth0'), undefined, 'inside a pool: isLearnable\'s');
  t.ok(isLearnable('10.244.7.0/26', via(4), 12, pools));
});
