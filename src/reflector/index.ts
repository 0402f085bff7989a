// Route reflection (RFC 4456), as pure rules used by export and import policy.
//
// What: when this node has a route reflector cluster id (Calico `routeReflectorClusterID`),
// iBGP peers marked `routeReflectorClient` are our clients. Routes from clients are
// reflected to every peer, routes from non-client iBGP peers to clients only, eBGP-learned
// and local routes go everywhere (§6). A reflected route gets ORIGINATOR_ID (the
// originating peer's router id) when it has none and our cluster id prepended to
// CLUSTER_LIST; no other attribute changes, the next hop included (§8, §10; Calico:
// "next hops are not rewritten on reflection").
//
// Invariants
// - Pure functions, no state: export (src/policy/export.ts) asks mayAdvertise() and
//   reflectAttributes(); import (src/policy/import.ts) asks reflectionLoop().
// - The cluster id defaults to the router id when none is configured (§7).
// - The cluster id can be set or cleared at run time (calicoctl patch node …): the Loc-RIB's
//   import check follows it (LocRib.setClusterId), dropping held paths that now loop.
// - ORIGINATOR_ID / CLUSTER_LIST are never sent to eBGP peers (optional non-transitive,
//   stripped by export).
// - Best path uses ORIGINATOR_ID in place of the router id and prefers the shorter
//   CLUSTER_LIST (§9; src/rib/best-path.ts).
//
// RFCs: 4456 (BGP Route Reflection), 4271 §9.2 (iBGP split horizon).
export { mayAdvertise, isReflection, reflectAttributes, reflectionLoop } from './rules.js';
export type { ReflectFrom, ReflectTo, ReflectionLoop } from './rules.js';
