// The RIB: Loc-RIB with best path, interned attributes, Adj-RIB-Out with update groups,
// graceful restart helper.
//
// What
// - LocRib (loc-rib.ts): every path by source (peer sessions, local origins), per family;
//   best path and multipath per prefix (best-path.ts, ordered named steps); change
//   notification batched per tick as BestChange[] (flush(), change-batch.ts). Its types
//   live in rib-types.ts, its sources by key in sources.ts, its per-source index (prefixes per family,
//   ADD-PATH ids in use) in source-index.ts, the passes over one source's destinations
//   (session down, stale marking and sweeping, a new peer's walk) in source-passes.ts, paths
//   held back by an import filter in filtered-paths.ts, the received attributes of paths an
//   import Accept's operations changed in import-changes.ts.
// - AttrSetTable (attr-set.ts): equal attributes share one frozen, reference-counted
//   AttrSet that caches its encoded bytes.
// - AdjRibOutManager (adj-rib-out-manager.ts, adj-rib-out.ts, update-group.ts, group-messages.ts, out-queue.ts,
//   path-ids.ts, advertised.ts): per peer, what was advertised and the prefixes it still has to look at;
//   peers with equal export parameters share export results and encodings (a member that
//   joins later is handed the bytes the members before it were sent, when they are the
//   same); UPDATEs packed per attribute set, written under backpressure, coalesced while
//   blocked; a new peer's table and End-of-RIB in as few writes as its batches.
// - GracefulRestartHelper (graceful-restart.ts): stale marking and sweeping.
//
// Invariants
// - Paths are immutable (except the GR stale mark) and hold a retained AttrSet; every
//   retain has one release, so unused sets leave the intern table.
// - Listeners see a prefix at most once per flush, and only when its best path or its
//   multipath set changed (by identity).
// - Stale paths take part in selection like any other (RFC 4724 §4.2).
// - A (source, received path id) whose last path left is told unused at the next flush,
//   once, after the selections are recomputed, and not if a path took it again: no
//   selection an Adj-RIB-Out can still read holds a path whose ADD-PATH id was freed.
// - A path held back by an import filter is out of the Loc-RIB (its source's count and ids);
//   an accepted announcement replaces the held copy of the same prefix and path id.
// - A path an import filter's operations changed is in the Loc-RIB changed; its attributes as
//   received are kept beside it until it is replaced, withdrawn or its source removed, and a
//   filter change runs on those.
// - A batch that re-sends routes for a route refresh carries nothing else: withdrawals are
//   packed before announcements, so a re-sent route and its withdrawal in one batch would
//   reach the peer in the wrong order.
// - Single-threaded: everything runs on the event loop; no method awaits.
//
// RFCs: 4271 §9 (decision process), 4456 §9 (RR tie-breaks), 4724 (graceful restart,
// End-of-RIB), 7911 (ADD-PATH), 2918 (route refresh), 4760 (MP-BGP), 7606 (treat-as-withdraw).
export { LocRib, RibError } from './loc-rib.js';
export type { BestChange, BestChangeListener, RouteView, LocRibOptions, ApplyResult } from './loc-rib.js';
export { AttrSet, AttrSetTable, attrKey } from './attr-set.js';
export { Path, addressSortKey } from './path.js';
export { ipv4Num } from '../net/prefix.js';
export type { PathSource, PeerSource, PeerSourceInfo, LocalSource } from './path.js';
export { Destination } from './destination.js';
export { select, STEPS, MAX_MULTIPATH, asPathLength, neighborAs } from './best-path.js';
export type { BestPathReason, Selection, SelectOptions } from './best-path.js';
export { AdjRibOut } from './adj-rib-out.js';
export { AdjRibOutManager } from './adj-rib-out-manager.js';
export type { PeerSink } from './adj-rib-out.js';
export { UpdateGroup, groupKey } from './update-group.js';
export { PathIdAllocator } from './path-ids.js';
export type { Advert, OutPeer } from './update-group.js';
export { GracefulRestartHelper } from './graceful-restart.js';
export type { GrDownInfo, GrUpInfo, GrState, GracefulRestartOptions } from './graceful-restart.js';
