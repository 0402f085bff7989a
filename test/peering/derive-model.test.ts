// Peering model test: random but valid Calico clusters (fixed seeds, the PRNG of
// test/rib/fixtures/helpers.ts), each node's peers derived by tern's entry point
// (deriveNodeConfig, with the daemon's secret resolver) and compared with an independent
// reference derivation (fixtures/peer-reference.ts: Calico's rules from
// ../shared/reference/calico-bgp-behaviour.md and confd, plus tern's documented differences).
//
// Generated (fixtures/peer-world.ts): 2–8 nodes with IPv4 and/or IPv6 addresses in several
// spellings (some with none), rack/zone/route-reflector labels, node and default AS numbers,
// route-reflector cluster ids; a BGPConfiguration default with or without the mesh, AS, listen
// port, nodeMeshMaxRestartTime and nodeMeshPassword; node.<name> listen ports; global,
// node: and nodeSelector BGPPeers to peerSelector-selected nodes, to Calico nodes by peerIP
// (right or wrong AS, with or without a port) and to external routers, with localASNumber,
// sourceAddress, keepOriginalNextHop / nextHopMode, maxRestartTime, keepaliveTime,
// ttlSecurity, numAllowedLocalASNumbers, password secretKeyRefs (v1 Secrets in stringData or
// data, missing ones, missing keys, empty and too-long values), BGPFilters (some missing),
// reachableBy and reversePeering: Manual; block affinities in every state, some unparsable;
// now and then two Nodes with one address, a BGPFilter the model refuses. Snapshots come
// from the datastores' builder (buildSnapshot), resources handed in shuffled order.
// Compared per session: key, name, type, address, port, family, local/peer AS, source
// address, passive, GR time, keepalive, next-hop mode, rr client, TTL security, password
// (none / unresolved / right value), Calico node, allow-own-AS, reachableBy, filter chains;
// per node: AS, listen port, effective mesh, cluster id, own blocks.
// Invariants over the cluster: fixtures/peer-checks.ts. Over time: a chain of random edits
// (unchanged resources keep their objects, as in a datastore) followed the way the daemon
// does (sameDeriveInputs, withOwnBlocksOf, else a full derive, as Daemon.onSnapshot) equals a
// fresh derive: own and other nodes' blocks, labels, addresses/AS/cluster ids, BGPPeers,
// BGPConfiguration default, node listen ports, the IPv4 pool, Secrets, BGPFilters, re-puts.
// Not generated: localWorkloadSelector (needs Felix's endpoint-status files), the
// tern/max-prefixes annotation, CALICO_ROUTER_ID other than 'hash' for IPv4-less nodes.
import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { deriveNodeConfig, sameDeriveInputs, withOwnBlocksOf } from '../../src/peering/derive.js';
import { secretResolver } from '../../src/peering/secrets.js';
import type { NodeBgpConfig } from '../../src/peering/node-config.js';
import type { Resource, Snapshot } from '../../src/model/types.js';
import { buildSnapshot } from '../../src/datastore/snapshot.js';
import { rng } from '../rib/fixtures/helpers.js';
import { genWorld, type WNode, type World } from './fixtures/peer-world.js';
import { editWorld, Renderer } from './fixtures/peer-render.js';
import { portOf, referencePeers } from './fixtures/peer-reference.js';
import { clusterInvariants, compareWithReference, viewOf } from './fixtures/peer-checks.js';

function derive(snap: Snapshot, n: WNode): NodeBgpConfig {
  return deriveNodeConfig(snap, n.name, { secrets: secretResolver(snap, undefined), ...(n.ipv4 ? {} : { routerId: 'hash' }) });
}

function clusterInfo(w: World) {
  return w.nodes.map((n) => ({ name: n.name, ...(n.ipv4 ? { ipv4: n.ipv4.address } : {}), ...(n.ipv6 ? { ipv6: n.ipv6.address } : {}), port: portOf(w, n) }));
}

/** Every node derived and compared with the reference; the cluster's invariants. */
function checkCluster(w: World, snap: Snapshot): { errors: string[]; cfgs: Map<string, NodeBgpConfig> } {
  const errors: string[] = [];
  const cfgs = new Map<string, NodeBgpConfig>();
  for (const n of w.nodes) {
    const cfg = derive(snap, n);
    cfgs.set(n.name, cfg);
    errors.push(...compareWithReference(n.name, cfg, referencePeers(w, n)));
  }
  errors.push(...clusterInvariants(clusterInfo(w), cfgs, !w.rules.some((r) => r.reverseManual)));
  return { errors, cfgs };
}

/** A configuration with its passwords replaced by whether they equal `other`'s, for messages. */
function redacted(cfg: NodeBgpConfig, other: NodeBgpConfig): unknown {
  const byKey = new Map(other.peers.map((p) => [p.key, p.password]));
  return { ...cfg, peers: cfg.peers.map((p) => ({ ...p, ...(p.password !== undefined ? { password: p.password === byKey.get(p.key) ? '<same>' : '<differs>' } : {}) })) };
}

function runSeed(t: Test, seed: number): void {
  const r = rng(seed);
  const w = genWorld(r);
  const snap = new Renderer().render(w, new Set(), r);
  const { errors, cfgs } = checkCluster(w, snap);
  // Input order does not matter: the same resources inserted in another order.
  const other = new Renderer().render(w, new Set(), rng(seed + 1));
  const first = w.nodes[0]!;
  if (!isDeepStrictEqual(derive(other, first), cfgs.get(first.name))) errors.push(`${first.name}: another insertion order gives another configuration`);
  // A node without IPv4 and no CALICO_ROUTER_ID cannot run: an error, never a guess.
  for (const n of w.nodes.filter((x) => !x.ipv4)) {
    try {
      deriveNodeConfig(snap, n.name);
      errors.push(`${n.name}: no IPv4 and no router id, yet derived`);
    } catch (e) {
      if (!/has no IPv4 address/.test(String(e))) errors.push(`${n.name}: unexpected error ${String(e)}`);
    }
  }
  t.same(errors.slice(0, 8), [], `seed ${seed}: ${w.nodes.length} nodes, ${w.rules.length} BGPPeers, mesh ${w.global?.mesh ?? 'default'}`);
}

/**
 * Edits in a row; after each, every node's configuration followed as the daemon follows it
 * (unchanged inputs: keep; only own blocks changed: withOwnBlocksOf; else derive) must equal
 * a fresh derive, and the fresh derive the reference.
 */
function runEdits(t: Test, seed: number, steps: number): void {
  const r = rng(seed);
  const w = genWorld(r);
  const renderer = new Renderer();
  let snap = renderer.render(w);
  const held = new Map(w.nodes.map((n) => [n.name, derive(snap, n)]));
  const errors: string[] = [];
  const paths = { kept: 0, ownBlocks: 0, full: 0 };
  for (let step = 0; step < steps && errors.length === 0; step++) {
    const focus = w.nodes[step % w.nodes.length]!.name;
    const { what, reput } = editWorld(r, w, focus);
    const next = renderer.render(w, reput);
    const { errors: refErrors, cfgs } = checkCluster(w, next);
    errors.push(...refErrors.map((e) => `step ${step} (${what}): ${e}`));
    for (const n of w.nodes) {
      const prev = held.get(n.name)!;
      let inc: NodeBgpConfig;
      if (sameDeriveInputs(snap, next, n.name)) { inc = prev; paths.kept++; } else {
        const own = withOwnBlocksOf(prev, snap, next, n.name);
        if (own) paths.ownBlocks++; else paths.full++;
        inc = own ?? derive(next, n);
      }
      const fresh = cfgs.get(n.name)!;
      if (!isDeepStrictEqual(inc, fresh)) {
        errors.push(`step ${step} (${what}): ${n.name} followed ${JSON.stringify(redacted(inc, fresh))}, fresh ${JSON.stringify(redacted(fresh, inc))}`);
      }
      held.set(n.name, fresh);
    }
    snap = next;
  }
  t.same(errors.slice(0, 4), [], `seed ${seed}: ${steps} edits (kept ${paths.kept}, own blocks ${paths.ownBlocks}, full ${paths.full})`);
}

t.test('random clusters: every node\'s peers equal the reference; cluster invariants', async (t) => {
  for (let seed = 1; seed <= 300; seed++) runSeed(t, seed);
});

t.test('random edits: the daemon\'s incremental path equals a fresh derive', async (t) => {
  for (let seed = 5001; seed <= 5040; seed++) runEdits(t, seed, 8);
});

// ---- what the random runs found, cut down ----

t.test('withOwnBlocksOf equals a fresh derive when a BGPFilter and an own affinity are both refused: warnings in one order (found by the random edits, minimised)', async (t) => {
  const API = 'projectcalico.org/v3' as const;
  const node = { apiVersion: API, kind: 'Node', metadata: { name: 'a' }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } } as Resource;
  const filter = { apiVersion: API, kind: 'BGPFilter', metadata: { name: 'bad' }, spec: { importV4: [{ action: 'Accept', cidr: '10.0.0.0/40', matchOperator: 'In' }] } } as Resource;
  const block = (name: string, cidr: string) => ({ apiVersion: API, kind: 'BlockAffinity', metadata: { name }, spec: { node: 'a', cidr, state: 'confirmed' } }) as Resource;
  const s0 = buildSnapshot([node, filter, block('a-2', '10.244.0.64/26')], 1);
  // The same Node, BGPFilter and a-2 objects; one more own affinity, which the model refuses.
  const s1 = buildSnapshot([s0.nodes.get('a')!, s0.bgpFilters.get('bad')!, s0.blockAffinities.get('a-2')!, block('a-1', '10.244.0.0/33')], 2);
  const followed = withOwnBlocksOf(deriveNodeConfig(s0, 'a'), s0, s1, 'a');
  const fresh = deriveNodeConfig(s1, 'a');
  t.ok(followed, 'only own blocks changed: the incremental path applies');
  t.same(followed?.warnings, fresh.warnings);
  t.same(followed, fresh);
  // The same with a bad CALICO_ADVERTISE_CLUSTER_IPS entry, whose warning is made after the refusals.
  const opts = { advertiseClusterIPs: '10.96.0.0/12,bogus' };
  t.same(withOwnBlocksOf(deriveNodeConfig(s0, 'a', opts), s0, s1, 'a')?.warnings, deriveNodeConfig(s1, 'a', opts).warnings, 'with a service warning');
});

t.test('two Nodes with one address: one mesh session to it, to the first by name, and a warning (found by the random clusters, minimised)', async (t) => {
  const API = 'projectcalico.org/v3' as const;
  const node = (name: string, ip: string) => ({ apiVersion: API, kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: ip } } }) as Resource;
  // c took b's address (a re-addressed node while the old Node object is still there).
  const snap = buildSnapshot([node('a', '10.0.0.1/24'), node('c', '10.0.0.2/24'), node('b', '10.0.0.2/24')], 1);
  const a = deriveNodeConfig(snap, 'a');
  t.same(a.peers.map((p) => [p.name, p.key, p.calicoNode]), [['Mesh_10_0_0_2', '10.0.0.2|179', 'b']]);
  t.match(a.warnings, [/Node c has the address 10\.0\.0\.2 of Node b/]);
  t.same(deriveNodeConfig(snap, 'b').peers.map((p) => p.name), ['Mesh_10_0_0_1'], 'b and c do not peer with each other');
});

t.test('the password check reports a wrong value without printing it', async (t) => {
  const spec = { key: 'a|179', name: 'Global_a', type: 'global', address: 'a', port: 179, family: 'ipv4', localAs: 1, peerAs: 2, passive: false, holdTime: 240, connectRetryTime: 5, gracefulRestartTime: 120, nextHopMode: 'auto', routeReflectorClient: false, addPath: true, password: 'secret-1' } as const;
  t.equal(viewOf(spec, 'secret-2').password, 'wrong value');
  t.equal(viewOf(spec, 'secret-1').password, 'ok');
  t.notMatch(JSON.stringify(viewOf(spec, 'secret-2')), /secret-1/);
});
