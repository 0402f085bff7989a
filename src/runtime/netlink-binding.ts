// netlink's native binding for the bundle, loaded without node-gyp-build.
//
// Why: the bundle (scripts/bundle.mjs) carries netlink's raw layer (dist/raw.js), so V8's code
// cache covers it, and gives it this function where raw.js calls
// `require('node-gyp-build')(dir)`. node-gyp-build is compiled from source at every start and
// scans build/ and prebuilds/ for a binary; on linux x64 and arm64 it picks the package's one
// N-API prebuild, prebuilds/linux-<arch>/node.napi.node, which this loads directly (measured
// 2026-12-06: netlink's raw layer, node-gyp-build and the binding cost a start about 3 ms of
// CPU, docs/benchmarks.md, round 2 changes). A package with a local build (build/, from
// `npm rebuild --build-from-source`), any other platform, or a prebuild that does not load
// goes through node-gyp-build, as netlink itself would. node-gyp-build's NETLINK_PREBUILD
// override is not consulted on the direct path (environment variables are read by
// src/settings alone).
// Outside the bundle (tsc's dist/, tests) raw.js loads node-gyp-build itself.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What raw.js gets for `require('node-gyp-build')`: its argument (raw.js's own directory) is not used. */
export function loadNetlinkBinding(): unknown {
  const root = dirname(createRequire(import.meta.url).resolve('netlink/package.json'));
  const inPackage = createRequire(join(root, 'package.json'));
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')
    && !existsSync(join(root, 'build'))) {
    try {
      return inPackage(join(root, 'prebuilds', `linux-${process.arch}`, 'node.napi.node'));
    } catch {
      // not loadable here: node-gyp-build below
    }
  }
  return (inPackage('node-gyp-build') as (dir: string) => unknown)(root);
}
