// Route policy: pure import and export evaluation.
//
// What: import (src/policy/import.ts) decides what enters the Loc-RIB from a peer — Calico
// accepts everything, so only loops are dropped (RFC 4456 §8, RFC 4271 §9.1.2) and eBGP
// LOCAL_PREF ignored. Export (src/policy/export.ts) decides what goes to a peer and with
// which attributes: Calico's `calico_export_to_bgp_peers` prefix rules (disableBGPExport
// pools rejected, own blocks accepted and their more-specifics rejected, anything inside
// an enabled pool accepted, everything else rejected), then the protocol rules (never back
// to the source peer, NO_ADVERTISE / NO_EXPORT, iBGP split horizon with RFC 4456 reflection,
// AS prepend and next hop self toward eBGP, LOCAL_PREF toward iBGP).
//
// Invariants
// - Pure functions: no state, no I/O; inputs are never mutated, results are new objects.
// - Export's prefix verdict depends only on (context, prefix) and its attributes only on
//   (context, path source + attributes, peer), so update groups memoize them separately.
// - BGPFilter chains (bgp-filter.ts): evaluated per route by the Loc-RIB (import, per peer
//   source) and by update groups (export, before the Calico rules); prefixAdvertisements
//   communities (communities.ts) and service CIDRs (ExportContext.staticRoutes) are part of
//   the Calico export rules. A route's interface (BIRD's ifname, for BGPFilter interface
//   rules) is resolved by the caller (daemon/route-interfaces.ts); reject_tunnel_routes
//   (*.cali / *.calico) uses the kernel-tunnel local source (SOURCE_KERNEL_TUNNEL) and is
//   one of Calico's rules (calicoRejectsSource), so an explicit Accept skips it, as it
//   skips reject_local_routes (bpf*.cali, by the route's interface: calicoRejectsInterface). Routes
//   held only for BGPFilter export (out-of-pool kernel routes, connected subnets: learned
//   while mayAcceptLocal holds for some peer's chain) use SOURCE_KERNEL_EXTRA: exported only
//   by an explicit Accept, never by Calico's rules. An Accept's operations
//   (filter-operations.ts: add a community, prepend AS numbers, set the priority) change
//   the route: on export as held, after the RFC 1997 check and before the protocol's own
//   changes; on import before it enters the Loc-RIB (which keeps the route as received for
//   the next filter change).
// - Route priority (priority.ts, calico-node v3.32): every export first gives the route its
//   LOCAL_PREF (a local route's from its kernel metric or the normal priority N) and
//   krt_metric, which BGPFilter `priority` and calico_aggr then read.
//
// RFCs: 4271 §5.1 (attribute handling), §9.1.2, §9.2; 1997 (well-known communities);
// 4456 §6, §8 (reflection).
export { exportPath, explainExport, exportDecision, exportAttributes, isAccepted, prependAs } from './export.js';
export type { ExportContext, ExportPeer, ExportSource, ExportablePath, ExportResult, PoolInfo, PrefixVerdict, AttrRejectReason } from './export.js';
export { importPath } from './import.js';
export type { ImportContext, ImportSource, ImportResult, ImportRejectReason } from './import.js';
