// The daemon: composition root and routing plane of one tern node.
//
// - daemon.ts   lifecycle (start/stop in dependency order) and configuration by
//               reconciliation from datastore snapshots
// - routing.ts  speaker events ↔ Loc-RIB ↔ Adj-RIB-Out ↔ FIB, graceful restart (RFC 4724)
// - export-context.ts  the export context and the restart policy derived from the config
// - inbound-refusals.ts  per-peer counts of refused inbound routes (status `refused`)
// - views.ts    what `tern status` and `tern routes` show
//
// Invariants: only configuration derived from a valid snapshot is applied; a rejected
// snapshot leaves the running state untouched; stop() leaves kernel routes installed.
export { Daemon, type DaemonOptions } from './daemon.js';
export { RoutingCore } from './routing.js';
