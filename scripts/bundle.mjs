// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/, which bin/tern runs. Why: a
// daemon start on a 2-core node is dominated by
// module loading (hundreds of files resolved, read and compiled, CommonJS packages lexed for
// their exports); one file per process cuts that by about a quarter (measured: 0.55 s →
// 0.44 s of CPU for a daemon and its watcher child, docs/benchmarks.md), which counts when a
// whole mesh of nodes cold-starts at once.
// Kept out of the bundle: `netlink` and `koffi` (native addons, loaded with require) and
// `etcd3` (gRPC; imported lazily, only for etcd datastores). dist/ itself stays the plain tsc
// output.
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['netlink', 'koffi', 'etcd3'],
  // CommonJS packages inside an ES module bundle still call require() for Node's builtins.
  banner: { js: "import { createRequire as __ternCreateRequire } from 'node:module'; const require = __ternCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
