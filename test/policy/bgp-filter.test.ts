// BGPFilter semantics (first matching rule of the whole chain; operators; prefixLength sets;
// RemotePeers), where they apply (Loc-RIB import, update-group export before Calico's rules)
// and live changes (re-filter in place, re-export the difference). Pure: no sockets.
import t from 'tap';
import { compileChain, evaluateChain, mayAcceptLocal, type FilterChainSpec, type FilterRuleSpec } from '../../src/policy/bgp-filter.js';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import { importFilterOf, pathInterfaceOf, type InterfaceSource } from '../../src/daemon/route-interfaces.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';
import { makeRib, addPeer, attrs, announce, rejecting } from '../rib/fixtures/helpers.js';
import { CTX } from '../rib/fixtures/export-ctx.js';
import { SOURCE_KERNEL_EXTRA } from '../../src/policy/export.js';
import { FakeSink, announced, withdrawn } from '../rib/fixtures/sink.js';

const chain = (...filters: FilterRuleSpec[][]): FilterChainSpec => filters.map((rules, i) => ({ name: `f${i}`, rules }));
const verdict = (c: FilterChainSpec, prefix: string, fromPeer = true, iface = '') => evaluateChain(compileChain(c), { prefix, attrs: {}, fromPeer, iface });

t.test('operators without prefixLength: Equal, NotEqual, In (inside or equal), NotIn', async (t) => {
  const r = (operator: FilterRuleSpec['operator']) => chain([{ action: 'reject', cidr: '10.1.0.0/16', operator }]);
  t.equal(verdict(r('equal'), '10.1.0.0/16'), 'reject');
  t.equal(verdict(r('equal'), '10.1.2.0/24'), undefined);
  t.equal(verdict(r('notEqual'), '10.1.2.0/24'), 'reject');
  t.equal(verdict(r('notEqual'), '10.1.0.0/16'), undefined);
  t.equal(verdict(r('in'), '10.1.0.0/16'), 'reject', 'net ~ cidr includes the cidr itself');
  t.equal(verdict(r('in'), '10.1.200.0/24'), 'reject');
  t.equal(verdict(r('in'), '10.0.0.0/8'), undefined, 'a shorter prefix is not inside');
  t.equal(verdict(r('in'), '10.2.0.0/24'), undefined);
  t.equal(verdict(r('notIn'), '10.2.0.0/24'), 'reject');
  t.equal(verdict(r('notIn'), '10.1.0.0/24'), undefined);
});

t.test('prefixLength: the set cidr{max(len,min), min(32,max)}; Equal/NotEqual against a set as BIRD 2 evaluates them', async (t) => {
  const inSet = chain([{ action: 'accept', cidr: '10.0.0.0/8', operator: 'in', lengths: { min: 24, max: 28 } }]);
  t.equal(verdict(inSet, '10.1.2.0/24'), 'accept');
  t.equal(verdict(inSet, '10.1.2.16/28'), 'accept');
  t.equal(verdict(inSet, '10.1.0.0/16'), undefined, 'shorter than min');
  t.equal(verdict(inSet, '10.1.2.1/32'), undefined, 'longer than max');
  t.equal(verdict(inSet, '11.1.2.0/24'), undefined);
  const lowMin = chain([{ action: 'accept', cidr: '10.0.0.0/8', operator: 'in', lengths: { min: 0, max: 32 } }]);
  t.equal(verdict(lowMin, '10.0.0.0/8'), 'accept', 'min below the cidr length is raised to it');
  t.equal(verdict(lowMin, '10.0.0.0/7'), undefined);
  const notIn = chain([{ action: 'reject', cidr: '10.0.0.0/8', operator: 'notIn', lengths: { min: 24, max: 32 } }]);
  t.equal(verdict(notIn, '10.1.0.0/16'), 'reject');
  t.equal(verdict(notIn, '10.1.1.0/24'), undefined);
  t.equal(verdict(chain([{ action: 'reject', cidr: '10.0.0.0/8', operator: 'equal', lengths: { min: 8, max: 32 } }]), '10.0.0.0/8'), undefined, 'net = [set] is never true');
  t.equal(verdict(chain([{ action: 'reject', cidr: '10.0.0.0/8', operator: 'notEqual', lengths: { min: 8, max: 32 } }]), '10.0.0.0/8'), 'reject', 'net != [set] is always true');
});

t.test('interface: BIRD `ifname ~ pattern` over the whole name; "" (no interface) only matches "*"', async (t) => {
  const rule = (iface: string) => chain([{ action: 'reject', iface }]);
  t.equal(verdict(rule('eth*'), '10.1.0.0/16', true, 'eth0'), 'reject');
  t.equal(verdict(rule('eth*'), '10.1.0.0/16', true, 'veth0'), undefined, 'anchored at the start');
  t.equal(verdict(rule('eth0'), '10.1.0.0/16', true, 'eth01'), undefined, 'anchored at the end');
  t.equal(verdict(rule('*.calico'), '10.1.0.0/16', false, 'vxlan.calico'), 'reject');
  t.equal(verdict(rule('*.calico'), '10.1.0.0/16', false, 'vxlan-calico'), undefined, '"." is literal');
  t.equal(verdict(rule('eth*'), '10.1.0.0/16', true, ''), undefined, 'a route without interface');
  t.equal(verdict(rule('*'), '10.1.0.0/16', false, ''), 'reject', '"*" matches "" too (ifname is always defined)');
  t.equal(verdict(rule('e*0'), '10.1.0.0/16', false, 'ens10'), 'reject');
  const both = chain([{ action: 'accept', cidr: '10.0.0.0/8', operator: 'in', iface: 'eth1' }]);
  t.equal(verdict(both, '10.1.0.0/16', true, 'eth1'), 'accept', 'conditions are and-ed');
  t.equal(verdict(both, '10.1.0.0/16', true, 'eth0'), undefined);
  t.equal(verdict(both, '192.0.2.0/24', true, 'eth1'), undefined);
  t.equal(compileChain(both).usesInterface, true);
  t.equal(compileChain(chain([{ action: 'accept', cidr: '10.0.0.0/8', operator: 'in' }])).usesInterface, false, 'callers may skip resolving interfaces');
});

t.test('RemotePeers, interface, bare action; first match ends the whole chain', async (t) => {
  const peersOnly = chain([{ action: 'reject', remotePeers: true }]);
  t.equal(verdict(peersOnly, '10.1.0.0/16', true), 'reject');
  t.equal(verdict(peersOnly, '10.1.0.0/16', false), undefined, 'local routes are not from BGP');
  t.equal(verdict(chain([{ action: 'reject', iface: 'eth*' }]), '10.1.0.0/16', false, 'eth0'), 'reject');
  t.equal(verdict(chain([{ action: 'accept' }]), '192.0.2.0/24'), 'accept', 'no condition: bare action');
  const two = chain(
    [{ action: 'accept', cidr: '10.1.0.0/16', operator: 'in' }],
    [{ action: 'reject', cidr: '10.0.0.0/8', operator: 'in' }],
  );
  t.equal(verdict(two, '10.1.1.0/24'), 'accept', 'the first filter decides; the second is never consulted');
  t.equal(verdict(two, '10.2.1.0/24'), 'reject', 'no match in the first: on to the next filter');
  t.equal(verdict(two, '192.0.2.0/24'), undefined, 'no match anywhere');
  t.equal(verdict(chain(), '10.0.0.0/8'), undefined);
  const v6 = chain([{ action: 'reject', cidr: 'fd00:1::/48', operator: 'in', lengths: { min: 64, max: 128 } }]);
  t.equal(verdict(v6, 'fd00:1:0:5::/64'), 'reject');
  t.equal(verdict(v6, 'fd00:1::/48'), undefined);
});

function update(prefixes: string[], nextHop = '10.0.0.2'): UpdateMessage {
  return { type: 'update', withdrawn: [], attributes: attrs({ nextHop, localPref: 100 }), nlri: prefixes.map((prefix) => ({ prefix })) };
}

const REJECT_192 = chain([{ action: 'reject', cidr: '192.168.0.0/16', operator: 'in' }]);
const rejects = (c: FilterChainSpec) => rejecting((prefix: string) => verdict(c, prefix) === 'reject');

t.test('import: a rejected prefix never enters the Loc-RIB; a filter change moves paths both ways', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setImportFilter('10.0.0.2|179', rejects(REJECT_192));
  rib.applyUpdate('10.0.0.2|179', update(['10.244.1.0/26', '192.168.5.0/24']));
  rib.flush();
  t.ok(rib.lookup('10.244.1.0/26'));
  t.notOk(rib.lookup('192.168.5.0/24'), 'filtered on receipt');
  t.equal(rib.filteredCount('10.0.0.2|179'), 1);
  t.equal(rib.source('10.0.0.2|179')?.pathCount, 1);

  t.equal(rib.setImportFilter('10.0.0.2|179', null), 1, 'filter removed: the held path enters');
  rib.flush();
  t.ok(rib.lookup('192.168.5.0/24'));
  t.equal(rib.filteredCount('10.0.0.2|179'), 0);

  t.equal(rib.setImportFilter('10.0.0.2|179', rejects(chain([{ action: 'reject', cidr: '10.244.0.0/16', operator: 'in' }]))), 1);
  const changes = rib.flush();
  t.notOk(rib.lookup('10.244.1.0/26'), 'now rejected: out of the Loc-RIB (and so out of the FIB)');
  t.same(changes.map((c) => [c.prefix, c.best]), [['10.244.1.0/26', null]]);
  t.equal(rib.source('10.0.0.2|179')?.pathCount, 1);

  // A withdrawal of a held path forgets it; a re-announcement replaces it.
  rib.applyUpdate('10.0.0.2|179', { type: 'update', withdrawn: [{ prefix: '10.244.1.0/26' }], attributes: {}, nlri: [] });
  t.equal(rib.filteredCount('10.0.0.2|179'), 0);
  rib.setImportFilter('10.0.0.2|179', null);
  rib.flush();
  t.notOk(rib.lookup('10.244.1.0/26'), 'withdrawn while filtered: stays gone');
  t.equal(rib.removeSource('10.0.0.2|179'), 1);
  t.equal(rib.attrSets.prune() >= 0, true);
});

t.test('import: an accepted re-announcement forgets the held path it replaces (a later filter change does not bring the old one back)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  const src = '10.0.0.2|179';
  const viaEth1 = rejecting((_prefix, a) => a.attrs.nextHop === '10.1.0.2'); // as importFilterOf on an interface
  rib.setImportFilter(src, viaEth1);
  rib.applyUpdate(src, update(['10.244.1.0/26'], '10.1.0.2'));
  t.equal(rib.filteredCount(src), 1, 'via eth1: held back');
  rib.applyUpdate(src, update(['10.244.1.0/26'], '10.0.0.2')); // the peer's route now, accepted
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26')?.best?.attrs.attrs.nextHop, '10.0.0.2');
  t.equal(rib.filteredCount(src), 0, 'the announcement it replaced is not held any more');
  t.equal(rib.setImportFilter(src, null), 0, 'the filter removed: nothing to re-admit');
  rib.flush();
  t.equal(rib.lookup('10.244.1.0/26')?.best?.attrs.attrs.nextHop, '10.0.0.2', 'still the route the peer announces');
  t.equal(rib.lookup('10.244.1.0/26')?.paths.length, 1);
});

t.test('import: a filtered re-announcement withdraws the accepted path it replaces', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.applyUpdate('10.0.0.2|179', update(['192.168.5.0/24']));
  rib.flush();
  t.ok(rib.lookup('192.168.5.0/24'));
  rib.setImportFilter('10.0.0.2|179', rejecting(() => false));
  rib.setImportFilter('10.0.0.2|179', rejects(REJECT_192));
  rib.flush();
  t.notOk(rib.lookup('192.168.5.0/24'));
  rib.applyUpdate('10.0.0.2|179', update(['192.168.5.0/24'], '10.0.0.3'));
  rib.flush();
  t.notOk(rib.lookup('192.168.5.0/24'));
  t.equal(rib.filteredCount('10.0.0.2|179'), 1, 'one held path per prefix and path id');
  rib.markStale('10.0.0.2|179', 'ipv4');
  t.equal(rib.filteredCount('10.0.0.2|179'), 0, 'a restarting peer re-sends: held paths are dropped');
});

function ebgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { key: `192.0.2.${n}|179`, family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}

t.test('export: filters run before calico_export_to_bgp_peers; Accept bypasses it, Reject overrides it', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  announce(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2' })); // in the pool: Calico exports
  announce(rib, '10.0.0.2|179', '10.244.8.0/26', attrs({ nextHop: '10.0.0.2' }));
  announce(rib, '10.0.0.2|179', '172.16.0.0/24', attrs({ nextHop: '10.0.0.2' })); // outside pools: Calico rejects
  rib.setLocal('10.244.1.0/26', attrs({ nextHop: '10.0.0.1' }), 'local:block'); // own block
  rib.flush();
  const ctx = { ...CTX, prefixCommunities: [{ cidr: '10.244.0.0/16', communities: ['65000:100', '65000:1:2'] }] };
  const out = new AdjRibOutManager(rib, ctx);
  const plain = new FakeSink();
  out.addPeer(ebgp(8), plain);
  const plainMsgs = plain.take();
  t.same(announced(plainMsgs).sort(), ['10.244.1.0/26', '10.244.7.0/26', '10.244.8.0/26'], 'no filter: Calico rules only');
  t.same(plainMsgs.find((m) => m.nlri.length > 0)?.attributes.communities, [65000 * 65536 + 100], 'apply_communities');
  t.same(plainMsgs.find((m) => m.nlri.length > 0)?.attributes.largeCommunities, [[65000, 1, 2]]);

  const exportChain = compileChain(chain(
    [{ action: 'reject', cidr: '10.244.8.0/26', operator: 'equal' }],
    [{ action: 'accept', cidr: '172.16.0.0/12', operator: 'in', remotePeers: true }],
  ));
  const sink = new FakeSink();
  out.addPeer(ebgp(9, { exportFilter: exportChain }), sink);
  const msgs = sink.take();
  t.same(announced(msgs).sort(), ['10.244.1.0/26', '10.244.7.0/26', '172.16.0.0/24'], 'Reject drops a pool route, Accept exports a non-pool one');
  const viaFilter = msgs.find((m) => m.nlri.some((n) => n.prefix === '172.16.0.0/24'));
  t.equal(viaFilter?.attributes.communities, undefined, 'an Accept bypasses apply_communities');
  t.same(viaFilter?.attributes.asPath, [{ type: 2, asns: [64512] }], 'protocol rules still apply (AS prepend toward eBGP)');
  t.not(out.get('192.0.2.8|179')?.group, out.get('192.0.2.9|179')?.group, 'a filtered peer has its own update group');

  // Live change: the filter goes away; only the difference is sent, the session stays.
  out.updatePeer(ebgp(9));
  const diff = sink.take();
  t.same(withdrawn(diff), ['172.16.0.0/24']);
  t.same(announced(diff), ['10.244.8.0/26']);
  t.equal(out.get('192.0.2.9|179')?.group, out.get('192.0.2.8|179')?.group, 'back in the shared group');
  t.equal(out.get('192.0.2.9|179')?.size, 3);
});

/** The FIB's answers, as a table (the kernel side is covered by test/fib and the lab test). */
function interfaces(toward: Record<string, string>, learned: Record<string, string> = {}): InterfaceSource & { toward: Record<string, string> } {
  return { toward, learnedInterface: (p) => learned[p] ?? '', interfaceToward(a) { return this.toward[a] ?? ''; } };
}

t.test('interface rules on import: the interface the next hop is reached through', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  const fib = interfaces({ '10.0.0.2': 'eth0', '10.1.0.2': 'eth1' });
  const rejectEth1 = chain([{ action: 'reject', iface: 'eth1' }]);
  rib.setImportFilter('10.0.0.2|179', importFilterOf(rejectEth1, fib));
  rib.applyUpdate('10.0.0.2|179', update(['10.244.1.0/26'], '10.0.0.2'));
  rib.applyUpdate('10.0.0.2|179', update(['10.244.2.0/26'], '10.1.0.2'));
  rib.flush();
  t.ok(rib.lookup('10.244.1.0/26'), 'next hop via eth0: accepted');
  t.notOk(rib.lookup('10.244.2.0/26'), 'next hop via eth1: rejected');
  fib.toward['10.1.0.2'] = 'eth2';
  t.equal(rib.setImportFilter('10.0.0.2|179', importFilterOf(rejectEth1, fib)), 1, 're-filtering after an interface change admits it');
  rib.flush();
  t.ok(rib.lookup('10.244.2.0/26'));
  t.equal(rib.setImportFilter('10.0.0.2|179', importFilterOf(rejectEth1, null)), 0, 'no FIB: no interface ("") matches eth1');
});

t.test('interface rules on export: kernel routes by device, BGP routes by next-hop interface, live', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  announce(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2' }));
  rib.setLocal('10.244.8.9/32', attrs({ nextHop: '10.0.0.1' }), 'local:kernel'); // learned on cali1
  rib.setLocal('10.244.9.9/32', attrs({ nextHop: '10.0.0.1' }), 'local:kernel'); // learned on eth1
  rib.setLocal('10.244.1.0/26', attrs({ nextHop: '10.0.0.1' }), 'local:block'); // own blackhole: ""
  rib.flush();
  const fib = interfaces({ '10.0.0.2': 'eth0' }, { '10.244.8.9/32': 'cali1', '10.244.9.9/32': 'eth1' });
  const out = new AdjRibOutManager(rib, CTX, { interfaceOf: pathInterfaceOf(fib, new Set(['local:kernel'])) });
  const sink = new FakeSink();
  const exportChain = compileChain(chain([{ action: 'reject', iface: 'cali*' }], [{ action: 'reject', iface: 'eth0' }]));
  out.addPeer(ebgp(9, { exportFilter: exportChain }), sink);
  t.same(announced(sink.take()).sort(), ['10.244.1.0/26', '10.244.9.9/32'], 'cali1 and eth0 routes rejected; eth1 and the blackhole pass to Calico\'s rules');
  fib.toward['10.0.0.2'] = 'eth1';
  out.interfacesChanged();
  t.same(announced(sink.take()), ['10.244.7.0/26'], 'the next hop moved to eth1: the BGP route is exported');
  fib.toward['10.0.0.2'] = 'eth0';
  out.interfacesChanged('10.244.7.0/26');
  t.same(withdrawn(sink.take()), ['10.244.7.0/26'], 'one prefix re-evaluated');
  const plain = new FakeSink();
  out.addPeer(ebgp(8), plain);
  t.equal(announced(plain.take()).length, 4, 'a peer without interface rules is unaffected');
});

t.test('export: service CIDRs (static routes) are accepted; a reflector passes on LB ranges', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setLocal('10.96.0.0/12', attrs({ nextHop: '10.0.0.1' }), 'local:static');
  announce(rib, '10.0.0.2|179', '203.0.113.0/24', attrs({ nextHop: '10.0.0.2' }));
  rib.flush();
  const out = new AdjRibOutManager(rib, { ...CTX, staticRoutes: ['10.96.0.0/12'], reflectorServiceRanges: ['203.0.113.0/24'] });
  const sink = new FakeSink();
  out.addPeer(ebgp(9), sink);
  t.same(announced(sink.take()), ['10.96.0.0/12'], 'LB ranges only on a reflector');
  const rr = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1', staticRoutes: ['10.96.0.0/12'], reflectorServiceRanges: ['203.0.113.0/24'] });
  const rrSink = new FakeSink();
  rr.addPeer(ebgp(9), rrSink);
  t.same(announced(rrSink.take()).sort(), ['10.96.0.0/12', '203.0.113.0/24']);
});

t.test('numAllowedLocalASNumbers: our AS tolerated N times in routes from that eBGP peer only', async (t) => {
  const rib = makeRib();
  rib.registerPeer({ key: '192.0.2.1|179', address: '192.0.2.1', asn: 65001, routerId: '192.0.2.1', ebgp: true, routeReflectorClient: false, allowOwnAs: 1 });
  rib.registerPeer({ key: '192.0.2.2|179', address: '192.0.2.2', asn: 65002, routerId: '192.0.2.2', ebgp: true, routeReflectorClient: false });
  const msg = (prefix: string, asns: number[]): UpdateMessage => ({
    type: 'update', withdrawn: [], attributes: attrs({ nextHop: '192.0.2.9', asPath: [{ type: 2, asns }] }), nlri: [{ prefix }],
  });
  t.equal(rib.applyUpdate('192.0.2.1|179', msg('10.1.0.0/16', [65001, 64512])).rejected, undefined, 'once: allowed');
  t.equal(rib.applyUpdate('192.0.2.1|179', msg('10.2.0.0/16', [65001, 64512, 64512])).rejected, 'asLoop', 'twice: a loop');
  t.equal(rib.applyUpdate('192.0.2.2|179', msg('10.3.0.0/16', [65002, 64512])).rejected, 'asLoop', 'another peer: none allowed');
});

t.test('mayAcceptLocal: a chain can export a locally held route only through an Accept without RemotePeers', async (t) => {
  t.equal(mayAcceptLocal(undefined), false, 'no filter');
  t.equal(mayAcceptLocal(chain([{ action: 'reject', iface: 'eth*' }])), false, 'rejects only');
  t.equal(mayAcceptLocal(chain([{ action: 'accept', cidr: '172.16.0.0/12', operator: 'in', remotePeers: true }])), false, 'accepts only BGP routes');
  t.equal(mayAcceptLocal(chain([{ action: 'reject', cidr: '10.0.0.0/8', operator: 'in' }], [{ action: 'accept', iface: 'eth0' }])), true);
  t.equal(mayAcceptLocal(chain([{ action: 'accept', cidr: '192.168.0.0/16', operator: 'in' }])), true);
});

t.test('extra local routes (connected subnets, out-of-pool kernel routes): exported only by an explicit Accept', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setLocal('192.168.50.0/24', attrs({ nextHop: '10.0.0.1' }), SOURCE_KERNEL_EXTRA); // connected on eth1
  rib.setLocal('10.244.8.9/32', attrs({ nextHop: '10.0.0.1' }), SOURCE_KERNEL_EXTRA); // inside the pool, still extra
  rib.setLocal('10.96.0.0/12', attrs({ nextHop: '10.0.0.1' }), SOURCE_KERNEL_EXTRA); // inside a static route, still extra
  rib.setLocal('198.51.100.0/24', attrs({ nextHop: '10.0.0.1' }), SOURCE_KERNEL_EXTRA); // an alien kernel route on eth0
  rib.flush();
  const fib = interfaces({}, { '192.168.50.0/24': 'eth1', '198.51.100.0/24': 'eth0', '10.244.8.9/32': 'eth1', '10.96.0.0/12': 'eth1' });
  const out = new AdjRibOutManager(rib, { ...CTX, staticRoutes: ['10.96.0.0/12'] }, { interfaceOf: pathInterfaceOf(fib, new Set([SOURCE_KERNEL_EXTRA])) });
  const plain = new FakeSink();
  out.addPeer(ebgp(8), plain);
  t.same(announced(plain.take()), [], 'no filter: Calico\'s rules never export them, whatever the prefix');
  const rejects = new FakeSink();
  out.addPeer(ebgp(7, { exportFilter: compileChain(chain([{ action: 'reject', cidr: '10.0.0.0/8', operator: 'in' }])) }), rejects);
  t.same(announced(rejects.take()), [], 'a chain without a matching Accept: not exported');
  const byIface = new FakeSink();
  out.addPeer(ebgp(9, { exportFilter: compileChain(chain([{ action: 'accept', iface: 'eth1' }])) }), byIface);
  t.same(announced(byIface.take()).sort(), ['10.244.8.9/32', '10.96.0.0/12', '192.168.50.0/24'], 'Accept on the interface');
  const byCidr = new FakeSink();
  out.addPeer(ebgp(10, { exportFilter: compileChain(chain([{ action: 'accept', cidr: '198.51.100.0/24', operator: 'equal' }])) }), byCidr);
  t.same(announced(byCidr.take()), ['198.51.100.0/24'], 'Accept on the cidr');
  // Live: the filter changes, the route goes, no reset
  out.updatePeer(ebgp(10));
  t.same(withdrawn(byCidr.take()), ['198.51.100.0/24'], 'filter removed: withdrawn');
  rib.setLocal('192.168.50.0/24', null, SOURCE_KERNEL_EXTRA);
  rib.flush();
  t.same(withdrawn(byIface.take()), ['192.168.50.0/24'], 'the address went: withdrawn');
});

t.test('extra local routes lose best-path selection to any BGP path', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  rib.setLocal('0.0.0.0/0', attrs({ nextHop: '10.0.0.1' }), SOURCE_KERNEL_EXTRA);
  announce(rib, '10.0.0.2|179', '0.0.0.0/0', attrs({ nextHop: '10.0.0.2' }));
  rib.setLocal('10.244.9.0/26', attrs({ nextHop: '10.0.0.1' }), 'local:kernel');
  announce(rib, '10.0.0.2|179', '10.244.9.0/26', attrs({ nextHop: '10.0.0.2' }));
  rib.flush();
  t.equal(rib.selection('0.0.0.0/0')?.best?.source.key, '10.0.0.2|179', 'the BGP default route stays best (and in the kernel)');
  t.equal(rib.selection('10.244.9.0/26')?.best?.source.key, 'local:kernel', 'pool kernel routes still win, as before');
});
