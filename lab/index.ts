// lab: the kit shared by the integration tests (test/), the benchmarks (bench/) and the demo
// (scripts/demo.ts). Neither test/, bench/ nor scripts/ imports another; all import this folder.
//
// - netns.ts       Lab: network namespaces, veth links, bridges, pods, processes, temp dir;
//                  everything it creates is removed on destroy() and on process exit.
// - exec.ts        run a command with a timeout; waitFor, polling a condition.
// - bird.ts        a BIRD 2 process in a lab host (spawnBird).
// - calico-bird.ts the one renderer of calico-node's bird.cfg (confd's templates, BIRD 2 syntax;
//                  v3.31's, or v3.32's with route priority and BGPFilter priority/setPriority).
// - process.ts     the repository root, bin/tern, the environment of a child tern.
// - etcd.ts        etcd inside a lab host, reachable from the other hosts (startLabEtcd).
// - tern.ts        the built tern daemon in a lab host, queried through its CLI (startTern).
// - calico-resources.ts  Calico v3 resources as YAML documents (calicoDoc, calico.*, calicoYaml).
// - fixture.ts     what the tests repeat: a segment of hosts on a bridge, a file datastore.
//
// Invariant: traffic stays inside the lab's namespaces; nothing here touches the root namespace.
export * from './netns.js';
export * from './bird.js';
export * from './calico-bird.js';
export * from './process.js';
export * from './etcd.js';
export * from './tern.js';
export * from './calico-resources.js';
export * from './fixture.js';
