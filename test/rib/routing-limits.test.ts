// The routing core's guards: the per-peer import limit from the BGPPeer annotation (Cease 6/1
// with RFC 4486 data), nothing sent on a session that did not negotiate its family, and
// inbound NLRI of other families / unusable next hops counted, never installed.
import t from 'tap';
import { RoutingCore } from '../../src/daemon/routing.js';
import { deriveNodeConfig } from '../../src/peering/index.js';
import { parseMaxPrefixes } from '../../src/model/parse-bgp.js';
import type { PeerHandle } from '../../src/bgp/session/peer.js';
import type { PeerSpec } from '../../src/peering/peer-spec.js';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { bgpConfig, bgpPeer, node, pool, snapshot } from '../peering/fixtures/snapshot.js';

function config(annotations?: Record<string, string>) {
  const peer = bgpPeer('tor', { peerIP: '10.77.0.30', asNumber: 65030 });
  if (annotations) (peer.metadata as { annotations?: Record<string, string> }).annotations = annotations;
  return deriveNodeConfig(snapshot([
    bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
    pool('p', { cidr: '10.244.0.0/16' }),
    node('node-a', { ipv4Address: '10.77.0.10/24' }),
    peer,
  ]), 'node-a');
}

function fakeHandle(spec: PeerSpec, families: string[] = [spec.family]) {
  const calls = { limit: [] as Buffer[], written: [] as Buffer[] };
  const negotiated = {
    families: new Set(families), fourOctetAs: true, addPathSend: new Set(), addPathReceive: new Set(), holdTime: 240, keepaliveTime: 80,
    peerRouterId: spec.address, peerAs: spec.peerAs, ebgp: true, routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false, peerGracefulRestart: null,
  };
  const handle = {
    spec, negotiated,
    write: (b: Buffer) => { calls.written.push(b); return true; },
    on: () => handle, off: () => handle,
    fail: () => undefined,
    prefixLimitExceeded: (d: Buffer) => { calls.limit.push(d); },
  };
  return { handle: handle as unknown as PeerHandle, calls };
}

const route = (c: number, nextHop = '10.77.0.30'): UpdateMessage => ({
  type: 'update', withdrawn: [], nlri: [{ prefix: `10.244.${c}.0/26` }],
  attributes: { origin: 0, asPath: [{ type: 2, asns: [65030] }], nextHop },
});

t.test('tern/max-prefixes annotation', async (t) => {
  t.same(parseMaxPrefixes('100'), { ipv4: 100, ipv6: 100 });
  t.same(parseMaxPrefixes('ipv4=5, ipv6=7'), { ipv4: 5, ipv6: 7 });
  t.same(parseMaxPrefixes('ipv6=7'), { ipv6: 7 });
  for (const bad of ['0', '-1', 'ten', 'ipv4=', 'ipv5=3', 'ipv4=3=4', '1.5']) t.throws(() => parseMaxPrefixes(bad), `"${bad}" refused`);
  const cfg = config({ 'tern/max-prefixes': 'ipv4=2' });
  t.equal(cfg.peers[0]!.importLimit, 2, 'the limit reaches the peer spec');
  const badCfg = config({ 'tern/max-prefixes': 'lots' });
  t.equal(badCfg.peers.length, 1, 'a bad annotation keeps the peering');
  t.equal(badCfg.peers[0]!.importLimit, undefined, '... without a limit');
  t.ok(badCfg.warnings.some((w) => w.includes('tern/max-prefixes')), 'and warns');
  t.equal(config().peers[0]!.importLimit, undefined);
});

t.test('one route over the import limit: Cease 6/1 with AFI, SAFI and the limit', async (t) => {
  const cfg = config({ 'tern/max-prefixes': '2' });
  const core = new RoutingCore(cfg, null, new FakeClock(), silentLogger());
  t.teardown(() => core.close());
  const { handle, calls } = fakeHandle(cfg.peers[0]!);
  core.onEstablished(handle);
  core.onUpdate(handle, route(1));
  core.onUpdate(handle, route(2));
  t.equal(calls.limit.length, 0, 'at the limit: fine');
  core.onUpdate(handle, route(3));
  t.equal(calls.limit.length, 1, 'over it: the session is ended');
  t.equal(calls.limit[0]!.toString('hex'), '0001' + '01' + '00000002', 'RFC 4486 data: AFI 1, SAFI 1, limit 2');
  t.equal(core.inboundCountsOf(cfg.peers[0]!.key).prefixLimitExceeded, 1);
});

t.test('a session that did not negotiate its family gets no UPDATE and no End-of-RIB', async (t) => {
  const cfg = config();
  const core = new RoutingCore(cfg, null, new FakeClock(), silentLogger());
  t.teardown(() => core.close());
  const { handle, calls } = fakeHandle(cfg.peers[0]!, ['ipv6']);
  core.onEstablished(handle);
  core.rib.setLocal('10.244.9.0/26', { origin: 0, asPath: [], nextHop: '10.77.0.10' });
  core.rib.flush();
  await new Promise((r) => setImmediate(r));
  t.same(calls.written, [], 'nothing written');
  t.equal(core.out.get(cfg.peers[0]!.key), undefined, 'no Adj-RIB-Out');
  // and what it sends of IPv4 is ignored, counted
  core.onUpdate(handle, route(5));
  core.rib.flush();
  t.equal(core.rib.lookup('10.244.5.0/26'), undefined, 'not installed');
  t.equal(core.inboundCountsOf(cfg.peers[0]!.key).familyNotNegotiated, 1);
  core.onUpdate(handle, { type: 'update', withdrawn: [], nlri: [], attributes: {} });
  t.equal(core.inboundCountsOf(cfg.peers[0]!.key).familyNotNegotiated, 2, 'an IPv4 End-of-RIB on it is ignored too');
});

t.test('unusable next hops are withdrawn, and replace an earlier good route', async (t) => {
  const cfg = config();
  const core = new RoutingCore(cfg, null, new FakeClock(), silentLogger());
  t.teardown(() => core.close());
  const { handle } = fakeHandle(cfg.peers[0]!);
  core.onEstablished(handle);
  core.onUpdate(handle, route(1));
  core.rib.flush();
  t.ok(core.rib.lookup('10.244.1.0/26'));
  core.onUpdate(handle, route(1, '0.0.0.0'));
  core.onUpdate(handle, route(2, '10.77.0.10'));
  core.onUpdate(handle, route(3, '224.0.0.1'));
  core.rib.flush();
  t.equal(core.rib.lookup('10.244.1.0/26'), undefined, 'the earlier route is withdrawn (treat-as-withdraw)');
  t.equal(core.rib.lookup('10.244.2.0/26'), undefined, 'own address as next hop');
  t.equal(core.rib.lookup('10.244.3.0/26'), undefined, 'multicast next hop');
  t.equal(core.inboundCountsOf(cfg.peers[0]!.key).invalidNextHop, 3);
});
