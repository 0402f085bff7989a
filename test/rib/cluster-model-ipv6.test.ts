// Cluster model test, dual-stack and IPv6-only: the world, the random steps and the check of
// cluster-model.test.ts (fixtures/cluster-world.ts, cluster-run.ts, cluster-check.ts) over
// clusters whose topologies come from randomChoice6 (fixtures/cluster-topology.ts), each
// node's Loc-RIB of both families checked at every quiet point against the reference
// (fixtures/cluster-reference.ts, written from RFC 4760, RFC 2545, RFC 4456 and Calico's
// bird6.cfg template and BIRD 1.6's IPv6 next hop code, not from src/).
//
// What it generates beyond the IPv4 test:
// - dual-stack clusters (an IPv6 pool fd10:244::/48 with /122 blocks beside 10.244.0.0/16,
//   and a second one whose disableBGPExport toggles with the IPv4 one's) and IPv6-only ones
//   (no IPv4 address or pool anywhere, CALICO_ROUTER_ID for every router id);
// - nodes and reflectors with only an IPv4 or only an IPv6 address in a dual-stack cluster:
//   Calico makes a session of a family only where both sides have an address of it (mesh,
//   peerSelector, and explicit peerIP BGPPeers written for both families);
// - one session per family and address pair, each negotiating that family only (MP-BGP,
//   RFC 4760; tern's OPENs and negotiate(); IPv6 routes in MP_REACH_NLRI / MP_UNREACH_NLRI,
//   End-of-RIB, ROUTE-REFRESH and graceful restart per family), ADD-PATH per family and
//   direction;
// - routers (ToRs) whose IPv6 sessions negotiated no family in common with the nodes (their
//   OPEN announces IPv4 only): nothing crosses them, End-of-RIB included, and a restarting
//   node does not wait for one;
// - IPv6 prefixes of every length class (/48, /57, /80, /122, /127, /128) and zero runs in
//   several places (RFC 5952 text through the codec);
// - the nodes' BGPPeers to routers and reflectors sometimes with sourceAddress: None (next
//   hop self is still the node's address of the session's family);
// - routers with graceful restart on their IPv4 channel only (their IPv6 sessions' GR
//   capability lists no family): their IPv6 routes go at once when the session ends, their
//   IPv4 ones stay stale (RFC 4724 §4.2);
// - routers on a shared link whose IPv6 next hop self carries their link-local address
//   beside the global one (RFC 2545 §3): the node keeps both on the path and passes neither
//   the link-local on (its sessions are multihop), whatever the next hop mode;
// - route reflectors reflecting IPv6 (ORIGINATOR_ID the IPv4 router id, CLUSTER_LIST),
//   next hop self toward eBGP (the node's IPv6 address), kept toward iBGP and on reflection,
//   nextHopMode Keep / Self per family;
// - a node's IPv6 address renumbered, removed (beside an IPv4 one) and restored at run time
//   (autodetection): the node re-derives at once, the others when they next do.
// Checked as in the IPv4 test, per family: the Loc-RIBs against the reference at quiet
// points, and before timers run no node left in restart recovery once every peer it
// configures is up and has sent End-of-RIB or cannot, and no paths of a session that is
// down unless graceful restart kept that family (fixtures/cluster-check.ts).
//
// Not generated: IPv6 link-local peers (tern does not support them: the session is not
// started), IPv4 routes over IPv6 sessions or IPv6 routes over IPv4 ones (RFC 8950 extended
// next hop; Calico never configures it), one session carrying both families, a link-local
// next hop passed on across a shared interface (no interfaces here), IPv4 addresses or
// reflectors renumbered, BGPFilter and communities (test/policy), MED (Calico never sets one).
import t from 'tap';
import { runSeed } from './fixtures/cluster-run.js';
import { randomChoice6 } from './fixtures/cluster-topology.js';

// Seeds 1–40 (TERN_CLUSTER6_SEEDS=N, TERN_CLUSTER6_SEED0=S for others).
const SEEDS = Array.from({ length: Number(process.env.TERN_CLUSTER6_SEEDS ?? 40) }, (_, i) => Number(process.env.TERN_CLUSTER6_SEED0 ?? 1) + i);

t.test('random dual-stack and IPv6-only cluster runs: every node holds what the topology says in both families, nothing stale', async (t) => {
  let v6Links = 0;
  for (const seed of SEEDS) {
    const { world, describe } = runSeed(seed, 300, randomChoice6);
    v6Links += world.links.filter((l) => l.family === 'ipv6').length;
    t.same(world.errors.slice(0, 4), [], `seed ${seed}: ${describe}`);
    world.close();
  }
  t.ok(v6Links > 0, `IPv6 sessions in the runs: ${v6Links}`);
});
