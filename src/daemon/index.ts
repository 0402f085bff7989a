// The daemon: composition root and routing plane of one tern node.
//
// - daemon.ts   lifecycle (start/stop in dependency order) and configuration by
//               reconciliation from datastore snapshots
// - registration.ts  the first snapshot (retried while the datastore is unreachable) and
//               this node's addresses stored on its Node resource
// - routing.ts  speaker events ↔ Loc-RIB ↔ Adj-RIB-Out ↔ FIB, graceful restart (RFC 4724)
// - peer-changes.ts  configuration changes applied to established sessions: BGPFilter
//               chains in place; a changed cluster id by ROUTE-REFRESH, or Cease 6/6 and a
//               new session toward a peer without route refresh (RFC 4456 §8, RFC 2918)
// - restart-recovery.ts  the End-of-RIB awaited from configured peers after a start, and
//               the selection deferral until it ends (RFC 4724 §4.1)
// - local-routes.ts  own blocks, service CIDRs, kernel-learned and reachableBy routes, as
//               the configuration sets them
// - best-to-fib.ts  the Loc-RIB's best-path changes as the FIB's routes (next hops of the
//               multipath set from peers; none for a local best)
// - export-context.ts  the export context and the restart policy derived from the config
// - inbound-refusals.ts  per-peer counts of refused inbound routes (status `refused`) and
//               the import prefix limit (RFC 4486 Cease 6/1)
// - views.ts    what `tern status` and `tern routes` show
// - input-gate.ts  backpressure: a peer's socket is not read while the FIB's backlog is
//               high (at most 1 s at a time)
//
// Invariants: only configuration derived from a valid snapshot is applied; a rejected
// snapshot leaves the running state untouched; stop() leaves kernel routes installed.
export { Daemon, type DaemonOptions } from './daemon.js';
export { RoutingCore } from './routing.js';
