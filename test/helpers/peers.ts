// Real BGP peers for integration tests: BIRD 2, GoBGP and FRR, each started in the
// foreground inside a lab host (lab/netns.ts), with its config and control socket in
// the lab's temp dir, its log captured, and query helpers that parse the daemon's own CLI.
//
// BIRD is configured the way calico-node's confd renders bird.cfg (its bird.cfg.template): device +
// direct protocols (cali* excluded), static blackholes, a kernel protocol only when asked,
// and BGP sessions from a template with `gateway recursive`, `add paths on`,
// `graceful restart`, `connect delay time 2`, `connect retry time 5`, `error wait time 5,30`.
//
// The launchers live in peers-bird.ts, peers-gobgp.ts and peers-frr.ts; this file gathers them.
export * from './peers-common.js';
export * from './peers-bird.js';
export * from './peers-gobgp.js';
export * from './peers-frr.js';
