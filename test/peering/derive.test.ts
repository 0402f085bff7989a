// deriveNodeConfig: router id rules, addresses, pools, own blocks, overrides, helpers.
import t from 'tap';
import { deriveNodeConfig, sameDeriveInputs } from '../../src/peering/index.js';
import { ownAddressOption } from '../../src/peering/derive.js';
import { ConfigError } from '../../src/util/errors.js';
import { affinity, bgpConfig, node, pool, snapshot } from './fixtures/snapshot.js';

t.test('router id is the node IPv4; 224.0.0.0/4 is rejected', async (t) => {
  t.equal(deriveNodeConfig(snapshot([node('a', { ipv4Address: '10.0.0.11/24' })]), 'a').routerId, '10.0.0.11');
  for (const bad of ['224.0.0.1/24', '230.1.2.3/16', '239.255.255.255/32']) {
    t.throws(() => deriveNodeConfig(snapshot([node('a', { ipv4Address: bad })]), 'a'),
      { code: 'ERR_CONFIG_INVALID', message: /router id .* is in 224\.0\.0\.0\/4/ }, bad);
  }
  t.equal(deriveNodeConfig(snapshot([node('a', { ipv4Address: '223.255.255.255/24' })]), 'a').routerId, '223.255.255.255');
});

t.test('no IPv4 address: a clear error, also on an IPv6-only node', async (t) => {
  const err = t.throws(() => deriveNodeConfig(snapshot([node('a', { ipv6Address: 'fd00::11/64' })]), 'a')) as unknown;
  t.ok(err instanceof ConfigError);
  t.match((err as ConfigError).message, /Node a has no IPv4 address \(spec\.bgp\.ipv4Address\)/);
  t.same((err as ConfigError).details, { kind: 'Node', resource: 'a', field: 'spec.bgp.ipv4Address', reason: 'no IPv4 address for the router id' });
});

t.test('unknown node and unparsable own address are errors', async (t) => {
  t.throws(() => deriveNodeConfig(snapshot([]), 'a'), { code: 'ERR_CONFIG_INVALID', message: /Node a is not in the datastore/ });
  t.throws(() => deriveNodeConfig(snapshot([node('a', { ipv4Address: '10.0.0.300/24' })]), 'a'),
    { code: 'ERR_CONFIG_INVALID', message: /spec\.bgp\.ipv4Address/ });
  t.throws(() => deriveNodeConfig(snapshot([node('a', { ipv4Address: 'fd00::1/64' })]), 'a'), { code: 'ERR_CONFIG_INVALID' });
});

t.test('addresses: prefix length and network; overrides replace the stored ones', async (t) => {
  const snap = snapshot([node('a', { ipv4Address: '10.0.0.11/24' }), node('b', { ipv4Address: '10.0.0.12/24' })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(a.ipv4, { address: '10.0.0.11', prefixLength: 24, network: '10.0.0.0/24' });
  t.equal(a.ipv6, undefined);
  const o = deriveNodeConfig(snap, 'a', { ipv4: ownAddressOption('172.16.0.5/16', 'ipv4', 'a'), ipv6: ownAddressOption('fd00::5/64', 'ipv6', 'a') });
  t.equal(o.routerId, '172.16.0.5');
  t.same(o.ipv4, { address: '172.16.0.5', prefixLength: 16, network: '172.16.0.0/16' });
  t.equal(o.peers[0]?.sourceAddress, '172.16.0.5');
  t.throws(() => ownAddressOption('10.0.0.300/24', 'ipv4', 'a'), { code: 'ERR_CONFIG_INVALID', message: /^Node a: spec\.bgp\.ipv4Address "10\.0\.0\.300\/24": / });
  t.same(deriveNodeConfig(snapshot([node('a', { ipv4Address: '10.0.0.11' })]), 'a').ipv4,
    { address: '10.0.0.11', prefixLength: 32, network: '10.0.0.11/32' }, 'bare address is a /32');
});

t.test('pools: defaults, modes, sorted; bad pool skipped with a warning', async (t) => {
  const snap = snapshot([node('a', { ipv4Address: '10.0.0.11/24' }),
    pool('v4', { cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet', natOutgoing: true }),
    pool('v6', { cidr: 'FD00:1::/48', vxlanMode: 'Always', blockSize: 120 }),
    pool('old', { cidr: '10.1.0.0/16', disabled: true, disableBGPExport: true }),
    pool('bad', { cidr: '10.2.0.0/33' })]);
  const a = deriveNodeConfig(snap, 'a');
  t.same(a.pools, [
    { cidr: '10.1.0.0/16', family: 'ipv4', blockSize: 26, ipipMode: 'never', vxlanMode: 'never', natOutgoing: false, disabled: true, disableBGPExport: true },
    { cidr: '10.244.0.0/16', family: 'ipv4', blockSize: 26, ipipMode: 'crossSubnet', vxlanMode: 'never', natOutgoing: true, disabled: false, disableBGPExport: false },
    { cidr: 'fd00:1::/48', family: 'ipv6', blockSize: 120, ipipMode: 'never', vxlanMode: 'always', natOutgoing: false, disabled: false, disableBGPExport: false },
  ]);
  t.match(a.warnings, [/IPPool bad: .*skipped/]);
});

t.test('own blocks: this node only, not deleted, state kept', async (t) => {
  const snap = snapshot([node('a', { ipv4Address: '10.0.0.11/24' }),
    affinity('a-1', { node: 'a', cidr: '10.244.1.0/26', state: 'confirmed' }),
    affinity('a-2', { node: 'a', cidr: '10.244.0.64/26', state: 'pending' }),
    affinity('a-3', { node: 'a', cidr: '10.244.2.0/26', state: 'pendingDeletion' }),
    affinity('a-4', { node: 'a', cidr: '10.244.3.0/26', state: 'confirmed', deleted: 'true' }),
    affinity('b-1', { node: 'b', cidr: '10.244.9.0/26', state: 'confirmed' })]);
  t.same(deriveNodeConfig(snap, 'a').ownBlocks, [
    { cidr: '10.244.0.64/26', state: 'pending' },
    { cidr: '10.244.1.0/26', state: 'confirmed' },
    { cidr: '10.244.2.0/26', state: 'pendingDeletion' },
  ]);
});

t.test('bad global asNumber falls back to 64512 with a warning; bad duration too', async (t) => {
  const snap = snapshot([node('a', { ipv4Address: '10.0.0.11/24' }), node('b', { ipv4Address: '10.0.0.12/24' }),
    bgpConfig('default', { asNumber: 0, nodeMeshMaxRestartTime: '2 minutes' })]);
  const a = deriveNodeConfig(snap, 'a');
  t.equal(a.asNumber, 64512);
  t.equal(a.peers[0]?.gracefulRestartTime, 120);
  t.equal(a.warnings.length, 2);
});


t.test('sameDeriveInputs: another node\'s block is not an input; own blocks and shared kinds are', async (t) => {
  const { buildSnapshot } = await import('../../src/datastore/snapshot.js');
  const a = node('a', { ipv4Address: '10.0.0.11/24' });
  const b = node('b', { ipv4Address: '10.0.0.12/24' });
  const p = pool('p', { cidr: '10.244.0.0/16' });
  const ownA = affinity('a-1', { node: 'a', cidr: '10.244.0.0/26', state: 'confirmed' });
  const ofB = affinity('b-1', { node: 'b', cidr: '10.244.1.0/26', state: 'confirmed' });
  const s1 = buildSnapshot([a, b, p, ownA, ofB], 1);
  // the same sealed objects again (what the file datastore hands over for unchanged documents)
  const keep = (s: typeof s1) => [...s.nodes.values(), ...s.ipPools.values()];
  const s2 = buildSnapshot([...keep(s1), s1.blockAffinities.get('a-1')!], 2);
  t.ok(sameDeriveInputs(s1, s2, 'a'), 'b lost its block: nothing for a to derive');
  t.same(deriveNodeConfig(s1, 'a'), deriveNodeConfig(s2, 'a'), 'and indeed the derived config is equal');
  t.notOk(sameDeriveInputs(s1, s2, 'b'), 'b lost its own block');
  t.notOk(sameDeriveInputs(s1, buildSnapshot([...keep(s1), s1.blockAffinities.get('b-1')!], 3), 'a'), 'a lost its own block');
  t.notOk(sameDeriveInputs(s1, buildSnapshot([a, b, p, ownA, ofB], 4), 'a'), 'equal content in new objects: derive again');
  t.notOk(sameDeriveInputs(s1, buildSnapshot([...s1.nodes.values(), ...s1.blockAffinities.values()], 5), 'a'), 'a pool went away');
});

t.test('withOwnBlocksOf: only own blocks changed gives what a full derive gives, with the same peers', async (t) => {
  const { buildSnapshot } = await import('../../src/datastore/snapshot.js');
  const { withOwnBlocksOf } = await import('../../src/peering/derive.js');
  const a = node('a', { ipv4Address: '10.0.0.11/24' });
  const b = node('b', { ipv4Address: '10.0.0.12/24' });
  const c = node('c', { ipv4Address: '10.0.0.13/24' });
  const p = pool('p', { cidr: '10.244.0.0/16' });
  const a1 = affinity('a-1', { node: 'a', cidr: '10.244.0.0/26', state: 'confirmed' });
  const a2 = affinity('a-2', { node: 'a', cidr: '10.244.0.64/26', state: 'confirmed' });
  const a3 = affinity('a-3', { node: 'a', cidr: '10.244.0.128/26', state: 'pending' });
  const b1 = affinity('b-1', { node: 'b', cidr: '10.244.1.0/26', state: 'confirmed' });
  const s1 = buildSnapshot([a, b, c, p, a1, a2, b1], 1);
  const shared = (s: typeof s1) => [...s.nodes.values(), ...s.ipPools.values()];
  const cfg1 = deriveNodeConfig(s1, 'a');
  t.equal(cfg1.peers.length, 2);
  const cases: [string, ReturnType<typeof buildSnapshot>][] = [
    ['a block withdrawn', buildSnapshot([...shared(s1), s1.blockAffinities.get('a-2')!, s1.blockAffinities.get('b-1')!], 2)],
    ['a block added (pending)', buildSnapshot([...shared(s1), ...s1.blockAffinities.values(), a3], 3)],
    ['every own block gone, another node\'s too', buildSnapshot(shared(s1), 4)],
  ];
  for (const [name, s2] of cases) {
    const fast = withOwnBlocksOf(cfg1, s1, s2, 'a');
    t.ok(fast, name);
    t.same(fast, deriveNodeConfig(s2, 'a'), `${name}: equal to a full derive`);
    t.equal(fast!.peers, cfg1.peers, `${name}: the peer specs in force stay`);
  }
  t.equal(withOwnBlocksOf(cfg1, s1, buildSnapshot([a, b, c, p, a1, b1], 5), 'a'), null, 'shared resources in new objects: derive in full');
  t.equal(withOwnBlocksOf(cfg1, s1, buildSnapshot([...s1.nodes.values(), a1, b1], 6), 'a'), null, 'a pool went away: derive in full');
});
