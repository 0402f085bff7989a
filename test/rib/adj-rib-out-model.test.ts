// Adj-RIB-Out model test: random sequences of Loc-RIB and session events, fixed seeds, and at
// quiescence what every peer was sent, decoded and applied in order to a model of that peer's
// Adj-RIB-In, against what the Loc-RIB's current selection exports to it. Never lost routes.
// The world and its operations are in fixtures/rib-out-world.ts, the peer's side (decoding
// sink, Adj-RIB-In, the policy's export) in fixtures/peer-model.ts. A run is a trace of
// operations (World.trace) that World.replay runs again: how the cases below were cut down.
//
// The world: a Loc-RIB (a reflector for even seeds, a mesh node for odd ones) with iBGP
// sources 10.0.0.2/3 (RR clients of the reflector), 10.0.0.4 (not a client), an eBGP source
// 192.0.2.1 (AS 65100) and the node's own routes (`local`); IPv4 and IPv6 prefixes inside and
// outside the pools, own blocks and their more-specifics. Out peers on one AdjRibOutManager:
// iBGP 10.0.0.2 and 10.0.0.3 (one update group; each also a source: never sent its own
// routes), iBGP 10.0.0.4 and 10.0.0.6 with ADD-PATH, eBGP 192.0.2.1 (a source) with the twins
// 192.0.2.5/6 in its group, eBGP 198.51.100.7 (AS 65200, ADD-PATH, 2-octet AS), iBGP 10.0.0.8
// with extended messages (RFC 8654), IPv6 iBGP and eBGP (ADD-PATH) peers; small batches (1 to 50 prefixes) so batches split, and a few seeds
// with 1 200 prefixes and mass events for message sizes.
//
// Operations, interleaved with Loc-RIB flushes: announce / re-announce with other attributes
// (next hop, AS path, MED, LOCAL_PREF, communities incl. NO_EXPORT, long lists, and lists so
// long the route fits one message to some peers and not others: not sent to those) / withdraw,
// under received path ids; own routes set and cleared; a source removed (session down);
// graceful restart (mark stale, re-announce some, sweep); a peer's sink stops taking writes
// and later drains (any time, also between an UPDATE and the flush); selection deferral
// (hold) and its release; plain and enhanced route refresh; a peer removed and added again
// (a new session, initial walk); export context changes (an own block added and removed: its
// prefixes re-evaluated; a pool's export disabled: everything re-evaluated); a peer's BGPFilter
// export chain set, changed or cleared (updatePeer: the peer moves to another update group).
// prefixAdvertisements communities in the export context and BGPFilter interface rules are
// driven through the same AdjRibOutManager by test/policy/policy-model.test.ts.
//
// The expected export, two ways:
// 1. The peer's export chain (bgp-filter.ts evaluateChain), then explainExport or, on Accept,
//    exportAttributes (src/policy/export.ts) over the Loc-RIB's current best path (or
//    multipath with ADD-PATH), without the peer's own routes and those too long for it: the policy alone, not the Adj-RIB-Out's
//    machinery (update groups, their cache and reach test, the out queue, the diff). Writing
//    the policy a second time here would only re-implement export.ts; the RIB's selection is
//    checked against a table built afresh by remove-source.test.ts.
// 2. A fresh AdjRibOutManager on a Loc-RIB built afresh from the model's final paths, each
//    peer sent its table by the initial walk only: the code path a long-lived incremental
//    Adj-RIB-Out must end up agreeing with.
// With ADD-PATH the ids differ between the two (each manager hands out its own), so a prefix
// compares as the sorted list of the attribute sets sent under its ids. The first follows the
// Loc-RIB as it is; the second the model's paths, so it also catches a Loc-RIB pass that kept
// or lost a path (a source's table walk skipping a destination fails here).
//
// Invariants checked as it runs: every message decodes and is at most 4096 octets (65535
// with extended messages); nothing
// is written while held; a withdrawal names a route the peer holds; End-of-RIB once per
// session, and when the walk could finish at once the peer's table at End-of-RIB is exactly
// the export; a refresh of an idle peer re-sends exactly its table (enhanced: within
// BoRR/EoRR); the twins receive identical bytes; no ADD-PATH id is held for a path the
// Loc-RIB no longer has; after everything is torn down no attribute set is left interned.
import t, { type Test } from 'tap';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import { makeRib, addPeer } from './fixtures/helpers.js';
import { CTX } from './fixtures/export-ctx.js';
import { ModelSink } from './fixtures/peer-model.js';
import { World, LOCAL_V4, type Config } from './fixtures/rib-out-world.js';

function runSeed(t: Test, cfg: Config): void {
  const w = new World(cfg);
  w.run();
  t.same(w.errors.slice(0, 6), [], `seed ${cfg.seed} (${w.reflector ? 'reflector' : 'mesh node'}, batch ${w.batch}, ${cfg.steps} steps${cfg.large ? ', 1 200 prefixes' : ''})`);
}

// ---- what the random runs found, cut down to a few steps ----

function ebgpPeer(key: string, extra: Partial<OutPeer> = {}): OutPeer {
  return { key, family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}

t.test('a refresh re-sending a route and a withdrawal of it in one batch: the peer is left without it (seed 1000, minimised)', async (t) => {
  // The peer is blocked when the refresh is asked for and the route is withdrawn; on the
  // drain one batch held both the re-sent route and its withdrawal, and withdrawals are
  // packed first: W then U, and the peer kept a route the node no longer has.
  const L = '10.244.13.0/26';
  const rib = makeRib();
  rib.setLocal(L, LOCAL_V4);
  rib.flush();
  const mgr = new AdjRibOutManager(rib, CTX);
  const peer = ebgpPeer('192.0.2.6|179');
  const sink = new ModelSink(peer, () => false);
  mgr.addPeer(peer, sink);
  t.same([...sink.held.keys()], [L], 'initial table');
  sink.room = 1;
  rib.setLocal('10.244.14.0/26', LOCAL_V4);
  rib.flush(); // written, and the sink is full
  mgr.routeRefresh(peer.key, 'ipv4', true);
  rib.setLocal(L, null);
  rib.flush();
  sink.drain();
  t.same(sink.errors, []);
  t.same([...sink.held.keys()], ['10.244.14.0/26'], 'the withdrawn route is gone from the peer');
  t.same(sink.markers, ['BoRR', 'EoRR']);
  mgr.close();
});

t.test('a new ADD-PATH peer walking a selection whose path just left: its id is released at the flush (seed 1028, minimised)', async (t) => {
  // The path's (source, path id) became unused at the withdrawal, before the flush; the new
  // peer's walk reads the flushed selection, which still holds the path, and was handed a
  // new id for it, which nothing released afterwards.
  const rib = makeRib();
  addPeer(rib, 2);
  rib.update('10.0.0.2|179', '10.244.12.64/26', 1, rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.0.0.2' }));
  rib.flush();
  rib.withdraw('10.0.0.2|179', '10.244.12.64/26', 1);
  const mgr = new AdjRibOutManager(rib, CTX);
  const peer = ebgpPeer('198.51.100.7|179', { peerAs: 65200, addPath: true });
  const sink = new ModelSink(peer, () => false);
  mgr.addPeer(peer, sink);
  rib.flush();
  t.same(sink.errors, []);
  t.same([...sink.held.keys()], [], 'announced by the walk, then withdrawn');
  t.equal(mgr.ids.size, 0, 'no ADD-PATH id held for a path the Loc-RIB does not have');
  mgr.close();
});

const SMALL_SEEDS = Array.from({ length: 60 }, (_, i) => 1000 + i);
const LARGE_SEEDS = [7001, 7002, 7003, 7004];

t.test('random operations: every peer ends up with what the Loc-RIB exports to it', async (t) => {
  for (const seed of SMALL_SEEDS) runSeed(t, { seed, steps: 300, large: false });
});

t.test('large tables and mass events: full messages, batches split, nothing lost', async (t) => {
  for (const seed of LARGE_SEEDS) runSeed(t, { seed, steps: 120, large: true });
});

