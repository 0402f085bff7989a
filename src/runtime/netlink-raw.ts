// netlink's raw socket layer, imported alone: the package index also loads the structures of
// every netlink protocol, about 60 ms of a start (docs/benchmarks.md §4). A deep import into
// the package's dist/, so a netlink upgrade must keep that path (package.json pins ^0.3.0).
export { RawNetlinkSocket } from 'netlink/dist/raw.js';
