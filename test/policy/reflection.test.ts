// RFC 4456 reflection matrix, reflected attributes, loop drops, CLUSTER_LIST in best path,
// ADD-PATH toward clients, and update groups as a reflector's routing core forms them.
import t from 'tap';
import { mayAdvertise, reflectionLoop, reflectAttributes } from '../../src/policy/reflection.js';
import { exportPath, explainExport } from '../../src/policy/export.js';
import type { ExportContext } from '../../src/policy/export.js';
import { makeRib, addPeer, attrs, seq, announce } from '../rib/fixtures/helpers.js';
import { CTX, ibgpPeer, ebgpPeer } from '../rib/fixtures/export-ctx.js';
import { FakeSink } from '../rib/fixtures/sink.js';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import { RoutingCore } from '../../src/daemon/routing.js';
import { deriveNodeConfig } from '../../src/peering/index.js';
import type { PeerHandle } from '../../src/bgp/session/peer.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { bgpConfig, bgpPeer, node, pool, snapshot } from '../peering/fixtures/snapshot.js';

const RR: ExportContext = { ...CTX, clusterId: '244.0.0.1' };
const P = '10.244.7.0/26';

function setup() {
  const rib = makeRib({ clusterId: '244.0.0.1' });
  addPeer(rib, 11, { rrClient: true });
  addPeer(rib, 21);
  addPeer(rib, 1, { address: '192.0.2.1', asn: 65100 });
  announce(rib, '10.0.0.11|179', P, attrs({ nextHop: '10.0.0.11' }));
  announce(rib, '10.0.0.21|179', P, attrs({ nextHop: '10.0.0.21' }));
  announce(rib, '192.0.2.1|179', P, attrs({ asPath: seq(65100), nextHop: '192.0.2.1' }));
  rib.setLocal(P, {});
  rib.flush();
  const from = (key: string) => rib.lookup(P)!.paths.find((p) => p.source.key === key)!;
  return { rib, from };
}

t.test('who gets what: client → all, non-client → clients only, eBGP and local → all', async (t) => {
  const { from } = setup();
  const targets = { client: ibgpPeer(12, { routeReflectorClient: true }), nonClient: ibgpPeer(22), ebgp: ebgpPeer(9, 65300) };
  const sources = { client: '10.0.0.11|179', nonClient: '10.0.0.21|179', ebgp: '192.0.2.1|179', local: 'local' };
  const expected: Record<string, Record<string, boolean>> = {
    client: { client: true, nonClient: true, ebgp: true },
    nonClient: { client: true, nonClient: false, ebgp: true },
    ebgp: { client: true, nonClient: true, ebgp: true },
    local: { client: true, nonClient: true, ebgp: true },
  };
  for (const [sname, skey] of Object.entries(sources)) {
    for (const [tname, peer] of Object.entries(targets)) {
      t.equal(exportPath(RR, P, from(skey), peer) !== null, expected[sname]![tname], `${sname} → ${tname}`);
    }
  }
});

t.test('not a reflector: plain iBGP split horizon even toward a peer marked client', async (t) => {
  const { from } = setup();
  t.same(explainExport(CTX, P, from('10.0.0.11|179'), ibgpPeer(12, { routeReflectorClient: true })), { rejected: 'splitHorizon' });
  t.equal(mayAdvertise({ kind: 'peer', ebgp: false, routeReflectorClient: true }, { ebgp: false, routeReflectorClient: true }, false), false);
});

t.test('reflected attributes: ORIGINATOR_ID and CLUSTER_LIST added, next hop unchanged', async (t) => {
  const { from } = setup();
  t.same(exportPath(RR, P, from('10.0.0.11|179'), ibgpPeer(22)), {
    origin: 0, asPath: [], nextHop: '10.0.0.11', localPref: 100, originatorId: '10.0.0.11', clusterList: ['244.0.0.1'],
  });
  t.same(reflectAttributes({ originatorId: '10.0.0.50', clusterList: ['244.0.0.7'] }, '10.0.0.11', '244.0.0.1'), {
    originatorId: '10.0.0.50', clusterList: ['244.0.0.1', '244.0.0.7'],
  }, 'an existing ORIGINATOR_ID is kept, the cluster id is prepended');
  const fromEbgp = exportPath(RR, P, from('192.0.2.1|179'), ibgpPeer(12, { routeReflectorClient: true }));
  t.equal(fromEbgp?.originatorId, undefined, 'eBGP-learned to a client is not a reflection');
  t.equal(fromEbgp?.clusterList, undefined);
  const toEbgp = exportPath(RR, P, from('10.0.0.11|179'), ebgpPeer(9, 65300));
  t.equal(toEbgp?.clusterList, undefined, 'never to eBGP');
});

t.test('loop drops on import (RFC 4456 §8)', async (t) => {
  t.equal(reflectionLoop({ clusterList: ['244.0.0.9', '244.0.0.1'] }, '10.0.0.1', '244.0.0.1'), 'clusterList');
  t.equal(reflectionLoop({ originatorId: '10.0.0.1' }, '10.0.0.1', undefined), 'originatorId', 'own originator dropped even by a client');
  t.equal(reflectionLoop({ clusterList: ['244.0.0.1'] }, '10.0.0.1', undefined), null, 'cluster list ignored without a cluster id');
  t.equal(reflectionLoop({ originatorId: '10.0.0.2', clusterList: ['244.0.0.2'] }, '10.0.0.1', '244.0.0.1'), null);
});

t.test('CLUSTER_LIST length decides between reflected copies of one route', async (t) => {
  const rib = makeRib();
  addPeer(rib, 31); addPeer(rib, 32);
  announce(rib, '10.0.0.31|179', P, attrs({ nextHop: '10.0.0.40', originatorId: '10.0.0.40', clusterList: ['244.0.0.2', '244.0.0.3'] }));
  announce(rib, '10.0.0.32|179', P, attrs({ nextHop: '10.0.0.40', originatorId: '10.0.0.40', clusterList: ['244.0.0.3'] }));
  rib.flush();
  const r = rib.lookup(P)!;
  t.equal(r.best!.source.key, '10.0.0.32|179');
  t.equal(r.reason, 'clusterListLength');
});

t.test('local routes toward a client are not reflections: no ORIGINATOR_ID, no CLUSTER_LIST', async (t) => {
  const { from } = setup();
  const local = exportPath(RR, P, from('local'), ibgpPeer(12, { routeReflectorClient: true }));
  t.ok(local);
  t.equal(local?.originatorId, undefined);
  t.equal(local?.clusterList, undefined);
});

t.test('ADD-PATH at a reflector: client paths to everyone, non-client paths to clients only, never back', async (t) => {
  const rib = makeRib({ clusterId: '244.0.0.1' });
  addPeer(rib, 11, { rrClient: true }); addPeer(rib, 12, { rrClient: true });
  addPeer(rib, 21); addPeer(rib, 22);
  announce(rib, '10.0.0.11|179', P, attrs({ nextHop: '10.0.0.11' }));
  announce(rib, '10.0.0.21|179', P, attrs({ nextHop: '10.0.0.21' }));
  rib.flush();
  t.equal(rib.lookup(P)!.multipath.length, 2, 'equal paths: both in the multipath set');
  const out = new AdjRibOutManager(rib, RR);
  const outPeer = (n: number, client: boolean): OutPeer => ({ ...ibgpPeer(n, { routeReflectorClient: client }), fourOctetAs: true, addPath: true });
  const sinks = new Map([[11, new FakeSink()], [12, new FakeSink()], [22, new FakeSink()]]);
  for (const [n, s] of sinks) out.addPeer(outPeer(n, n < 20), s);
  const opts = { fourOctetAs: true, addPath: new Set(['ipv4' as const]) };
  const got = (n: number) => sinks.get(n)!.take(opts).filter((m) => m.nlri.length > 0)
    .map((m) => ({ nextHop: m.attributes.nextHop, originatorId: m.attributes.originatorId, clusterList: m.attributes.clusterList, n: m.nlri.length }))
    .sort((a, b) => String(a.nextHop).localeCompare(String(b.nextHop)));
  const refl = (nh: string) => ({ nextHop: nh, originatorId: nh, clusterList: ['244.0.0.1'], n: 1 });
  t.same(got(12), [refl('10.0.0.11'), refl('10.0.0.21')], 'client: both paths, each reflected, next hops kept');
  t.same(got(22), [refl('10.0.0.11')], 'non-client: only the path from a client');
  t.same(got(11), [refl('10.0.0.21')], 'the originating client: only the other path');
});

t.test('update groups at a reflector: its clients share one group, the other RR and BIRD do not', async (t) => {
  const rrNode = (name: string, ip: string) => node(name, { ipv4Address: `${ip}/24`, routeReflectorClusterID: '244.0.0.1' }, { 'route-reflector': 'true' });
  const clients = [11, 12, 13, 14].map((n) => node(`node-${n}`, { ipv4Address: `10.77.0.${n}/24` }));
  const snap = snapshot([
    bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
    pool('p', { cidr: '10.244.0.0/16' }),
    rrNode('rr-1', '10.77.0.21'), rrNode('rr-2', '10.77.0.22'), ...clients,
    bgpPeer('to-rrs', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
    bgpPeer('rr-1-bird', { node: 'rr-1', peerIP: '10.77.0.30', asNumber: 64512 }),
  ]);
  const cfg = deriveNodeConfig(snap, 'rr-1');
  t.same(cfg.peers.map((p) => `${p.address}:${p.routeReflectorClient ? 'client' : 'ibgp'}`).sort(),
    ['10.77.0.11:client', '10.77.0.12:client', '10.77.0.13:client', '10.77.0.14:client', '10.77.0.22:ibgp', '10.77.0.30:client']);
  const core = new RoutingCore(cfg, null, new FakeClock(), silentLogger());
  t.teardown(() => core.close());
  const written = new Map<string, Buffer[]>();
  for (const spec of cfg.peers) {
    written.set(spec.key, []);
    const bird = spec.address === '10.77.0.30';
    const negotiated = {
      families: new Set([spec.family]), fourOctetAs: true, addPathSend: new Set([spec.family]), addPathReceive: new Set([spec.family]),
      holdTime: 240, keepaliveTime: 80, peerRouterId: spec.address, peerAs: spec.peerAs, ebgp: false, routeRefresh: true,
      enhancedRouteRefresh: false, extendedMessage: !bird /* BIRD 2 does not offer it by default */, peerGracefulRestart: null,
    };
    const handle = { spec, negotiated, write: (b: Buffer) => { written.get(spec.key)!.push(b); return true; }, on: () => handle };
    core.onEstablished(handle as unknown as PeerHandle);
  }
  const groups = [...core.out.groupMembers().values()].map((m) => m.map((k) => k.split('|')[0]).sort());
  t.same(groups.sort((a, b) => b.length - a.length), [
    ['10.77.0.11', '10.77.0.12', '10.77.0.13', '10.77.0.14'], ['10.77.0.22'], ['10.77.0.30'],
  ].sort((a, b) => b.length - a.length), 'four clients, one group; export runs once per group');
  core.onUpdate({ spec: cfg.peers.find((p) => p.address === '10.77.0.11')! } as unknown as PeerHandle,
    { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [], nextHop: '10.77.0.11' }, nlri: [{ prefix: '10.244.11.0/26', pathId: 1 }] } as never);
  core.rib.flush();
  const sets = ['10.77.0.12', '10.77.0.13', '10.77.0.14'].map((a) => core.out.get(`${a}|179`)!.advertisedFor('10.244.11.0/26'));
  t.ok(sets.every((s) => s.size === 1), 'the other clients got the route');
  t.ok(sets.every((s) => [...s.values()][0] === [...sets[0]!.values()][0]), 'one shared attribute set (one encoding) for the group');
  const bytes = ['10.77.0.12', '10.77.0.13'].map((a) => Buffer.concat(written.get(`${a}|179`)!).toString('hex'));
  t.equal(bytes[0], bytes[1], 'identical UPDATE bytes to every member');
  t.equal(core.out.get('10.77.0.11|179')!.advertisedFor('10.244.11.0/26').size, 0, 'not back to the originating client');
});

t.test('a node made a reflector at runtime drops reflections with its new cluster id (RFC 4456 §8)', async (t) => {
  const mk = (clusterId?: string) => snapshot([
    bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: false }),
    pool('p', { cidr: '10.244.0.0/16' }),
    node('rr-1', { ipv4Address: '10.77.0.21/24', routeReflectorClusterID: '244.0.0.1' }, { 'route-reflector': 'true' }),
    node('rr-2', { ipv4Address: '10.77.0.22/24', ...(clusterId ? { routeReflectorClusterID: clusterId } : {}) }, { 'route-reflector': 'true' }),
    bgpPeer('to-rrs', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
  ]);
  const core = new RoutingCore(deriveNodeConfig(mk(), 'rr-2'), null, new FakeClock(), silentLogger());
  t.teardown(() => core.close());
  const spec = deriveNodeConfig(mk('244.0.0.1'), 'rr-2').peers.find((p) => p.address === '10.77.0.21')!;
  t.equal(spec.routeReflectorClient, false, 'rr-1 will share the cluster id: plain iBGP');
  core.rib.registerPeer({ key: spec.key, address: spec.address, asn: 64512, routerId: spec.address, ebgp: false, routeReflectorClient: false, family: 'ipv4' });
  const reflected = { origin: 0, asPath: [], nextHop: '10.77.0.11', originatorId: '10.77.0.11', clusterList: ['244.0.0.1'] } as const;
  const send = (prefix: string) => core.rib.applyUpdate(spec.key, { type: 'update', withdrawn: [], attributes: reflected, nlri: [{ prefix }] } as never);
  t.equal(send('10.244.11.0/26').rejected, undefined, 'not a reflector yet: accepted');
  core.rib.flush();
  core.setConfig(deriveNodeConfig(mk('244.0.0.1'), 'rr-2')); // calicoctl patch node rr-2 … routeReflectorClusterID
  core.rib.flush();
  t.equal(core.rib.lookup('10.244.11.0/26'), undefined, 'a path held from before now loops: removed');
  t.equal(core.rib.source(spec.key)?.pathCount, 0);
  t.equal(send('10.244.12.0/26').rejected, 'clusterList', 'rr-1\'s reflection of a client route is dropped');
  core.rib.flush();
  t.equal(core.rib.lookup('10.244.12.0/26'), undefined);
});
