// FIB: programs the Linux routing table from tern's desired routes, Calico/BIRD style.
//
// What
// - Desired state: the node's own confirmed blocks as `blackhole <block> proto bird` (Calico's
//   static protocol; no blackhole for /32 or /128 blocks, pending affinities are never passed
//   in), and the BGP best path or multipath set of every other prefix, shaped by route-shape.ts
//   (pool encapsulation: tunl0 onlink for IPIP, direct via the interface of the connected route
//   covering the next hop otherwise, VXLAN pools skipped, up to 16 next hops in one route).
// - Observed state: one dump of links and routes at start, then RTM_NEWROUTE/RTM_DELROUTE and
//   RTM_NEWLINK/RTM_DELLINK notifications; a full re-dump every 5 minutes (and whenever
//   notifications were lost) is only a safety net, never the mechanism. Notifications that
//   arrive during a dump are held and replayed after it (kernel-load.ts).
// - Reconciliation (Felix route table / BIRD krt): changes mark prefixes dirty (fib-sync.ts
//   takes the inputs and the kernel's notifications), a tick (tick.ts: the queue of dirty
//   prefixes and the tick; util/soon.ts, tests inject `defer`) applies them: compare desired
//   with observed, write only the difference (one prefix and the kernel's answers:
//   reconcile.ts; what is desired, once per distinct input: want.ts). At most MAX_INFLIGHT
//   (4096) kernel operations are in flight; a tick stops there and the next runs as the
//   kernel answers. Writes go through one netlink socket, pipelined (netlink-kernel.ts), with
//   callbacks rather than promises; each prefix is parsed once per reconcile and its IPv4
//   number handed down to the request (KernelRoutes.write).
// - Storage (table.ts): per prefix one interned, shared Slot (BGP next hops, route written,
//   routes observed, installed/adopted marks) in one Map keyed by the caller's prefix string
//   (the Loc-RIB's own, via setCanonicalRoute); next-hop lists and routes without their
//   prefix are interned too. 24–36 B of heap per route at 100 000 routes from one peer.
//   Statuses are stored only for prefixes that are not plainly installed.
// - While a burst of kernel operations is past 10 000, V8's old generation may grow only
//   15 % over the live heap (runtime/heap-growth.ts); after it, one full GC returns the
//   burst's garbage and malloc_trim the native memory it freed (writer.ts, gc.ts,
//   util/libc.ts; FibSyncOptions.afterBurst). From a burst's 256th
//   operation V8 tiers up at its usual pace until a second after it (runtime/v8-flags.ts).
// - Learned routes: kernel `proto bird` routes of type blackhole, unreachable, prohibit or
//   device-only (no gateway) that tern did not write and that lie inside an enabled pool are
//   reported by the `learned(prefix, present)` event (Calico IPAM blackholes, borrowed /32s;
//   bookkeeping in learned.ts); the daemon originates them into BGP. With setLearnExtra(true) (some BGPFilter export
//   chain could Accept them) also alien routes outside every pool and connected subnets of
//   non-cali*/kube-ipvs* devices (status.ts extraLearnable; `learnedIsExtra`); never a route
//   tern wrote.
// - Interfaces (interfaces.ts), for BGPFilter `interface` rules: a learned route's device
//   (`learnedInterface`) and the device a next hop is reached through (`interfaceToward`,
//   longest match over the observed routes not ours); the `interfaces` event reports that
//   answers given before may have changed (a link, a covering route, a re-dump).
//
// Ownership rule (invariant)
// - tern writes and deletes only routes with protocol 12 (bird) in the main table (254);
//   deletions always carry protocol 12, so the kernel itself refuses to delete anything else,
//   and name the route (type, next hops): IPv4 reads metric 0 as any metric, and IPv6 makes a
//   route another program appends (NLM_F_APPEND) at our metric our route's ECMP sibling, so a
//   delete naming less could take a proto-bird route at another metric or their sibling.
// - Routes of any other protocol (static, kernel, boot, dhcp, ...) are never written or
//   deleted, even with the same prefix. tern installs IPv4 routes at metric 0 and IPv6 at 1024;
//   if an alien route holds the same (prefix, metric) slot, tern does not write (an
//   NLM_F_REPLACE would overwrite the alien, in both families): the prefix is
//   'pending' with ERR_FIB_ALIEN_ROUTE and is installed when the alien goes away. An alien at
//   another metric coexists with ours. Because the observed view lags the kernel, a slot
//   where tern sees none of its own routes is written with NLM_F_CREATE|NLM_F_EXCL, never
//   NLM_F_REPLACE: an alien added a moment ago yields EEXIST (retried) instead of being
//   overwritten. NLM_F_REPLACE is used only on a slot tern's own route holds.
// - An own block wins over a BGP route for the same prefix (BIRD: static preference 200 over
//   BGP 100): the blackhole stays.
// - A learned proto-bird route (not written by tern) is not overwritten by a BGP route for
//   the same prefix ('pending', ERR_FIB_LEARNED_ROUTE). A proto-bird blackhole equal to one of
//   the own blocks is tern's. A learnable proto-bird route (blackhole, unreachable, prohibit,
//   device route, in a pool) that differs from the route tern wrote there is an IPAM's put
//   after tern's went or in its place (seen by notification or by a re-dump): it is learned,
//   never overwritten or removed, and tern's route counts as gone.
// - A proto-bird unicast route with a gateway that tern neither wrote nor adopted is tern's
//   (its own route changed while the notification was lost, e.g. moved off a link that then
//   went down, so the view had dropped it; a re-dump shows it): replaced when the prefix is
//   wanted, removed when it is not. Never left orphaned.
// - What tern wrote is taken as gone when another protocol's route replaced it, or when it was
//   deleted before the answer to its write came (the write is then done again). A write
//   answered after a notification of another protocol's route in the same slot is followed by
//   a re-dump: from the two alone, which came first cannot be told.
// - Restart adoption: proto-bird unicast routes with a gateway found at start are kept until
//   endOfRibAll() or the stale timer (default 120 s); then those not desired again are removed.
//   An adopted route that goes before (flushed with its link, deleted) is no longer adopted: a
//   route put in its place is never swept.
//   Desired routes are written at once (replace is atomic), not after the window.
//   Limitation: a blackhole left by a previous run for a block that is no longer affine cannot
//   be told from an IPAM blackhole and is reported as learned. Limitation: an IPv6 next hop
//   another program appended to our route is seen (its notification) as an alien in the slot;
//   a re-dump shows one route with our protocol and both next hops (the kernel reports one
//   protocol per route), which tern then takes for its own.
// - stop() leaves every installed route in the kernel (BIRD `persist`).
//
// Status and errors
// - status(prefix): 'installed'; 'pending' (waiting for tunl0 to exist or be up, or for an
//   alien route to go); 'error' (next hop not covered by any connected route:
//   ERR_FIB_NEXTHOP_UNREACHABLE, re-evaluated on every connected-route change; or the kernel
//   refused: ERR_FIB_NETLINK_<ERRNO>, retried with exponential backoff from 1 s to 60 s).
//   Kernel errors are counted per code and logged once per code; never fatal.
//
// Kernel layer (netlink-kernel.ts): one socket for writes and dumps (netlink-request.ts:
// opened through libc, one send(2) per datagram, its answers read by the event loop into one
// buffer; npm `netlink`'s where Node lacks the pipe handle), requests pipelined many
// per datagram with one ACK per datagram as a barrier and errors matched by sequence number
// (route bodies resolved to ifindexes and encoded from templates: netlink-bodies.ts; dumps on
// the same socket, one at a time, run again when interrupted: netlink-dump.ts; errno names
// and the guard around native callbacks: netlink-errors.ts);
// one socket for notifications, opened through libc (netlink-notify.ts; npm `netlink` aborts
// its process on an overrun) with a 32 MiB buffer and read by the event loop itself (a libuv
// stream over its fd: one loop wake-up per event, no thread), an overrun (ENOBUFS) answered by
// a new socket and a re-dump (both sockets opened and read the same way: netlink-fd.ts).
// The notifications of tern's own writes are dropped in the kernel (a
// BPF socket filter on the write socket's port id): FibSync takes the result of its writes
// from their answers (a write answered during a re-dump is applied again after it), and sees
// every change made by another process or by the kernel itself. Without the filter, writes
// are paced so their own notifications cannot overrun the socket, and a notification that
// never comes is reported as a loss (re-dump) rather than waited for.
//
// Async model: single-threaded; at most one kernel operation per prefix in flight, changes
// arriving meanwhile are re-applied after it completes.
export type { KernelRoutes, KernelRoute, KernelNextHop, Link, RouteType } from './kernel.js';
export { NetlinkKernel } from './netlink-kernel.js';
export { FibSync, type FibSyncOptions, type PrefixStatus, type FibState } from './fib-sync.js';
export { shapeRoute, blackholeFor, type Pool, type EncapMode, type Shape, type ShapeContext } from './route-shape.js';
