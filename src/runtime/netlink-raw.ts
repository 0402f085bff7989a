// netlink's raw socket layer, loaded alone and on first use: the package index also loads the
// structures of every netlink protocol, about 60 ms of a start (docs/benchmarks.md §4), and
// the FIB needs the raw layer only where its own request socket cannot open
// (src/fib/netlink-request.ts), so a start normally loads none of it. A deep import into the
// package's dist/, so a netlink upgrade must keep that path (package.json pins ^0.3.0). In
// the bundle, scripts/bundle.mjs carries that file and loads its binding directly
// (netlink-binding.ts).
import { createRequire } from 'node:module';

type RawLayer = typeof import('netlink/dist/raw.js');
let raw: RawLayer | undefined;

/** netlink's RawNetlinkSocket class; throws what loading its native binding throws. */
export function rawNetlinkSocket(): RawLayer['RawNetlinkSocket'] {
  raw ??= (typeof require === 'function' ? require('netlink/dist/raw.js') : createRequire(import.meta.url)('netlink/dist/raw.js')) as RawLayer;
  return raw.RawNetlinkSocket;
}
