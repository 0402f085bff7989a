// koffi's native module, loaded without koffi's JavaScript entry point.
//
// Why: koffi's index.js also carries its install-time tooling (a prebuilt-binary
// downloader), so requiring it loads Node's https, tls, http, zlib and crypto modules;
// measured 2026-12-06: `require('koffi')` cost 16–18 ms of CPU more than `node -e 0`,
// requiring its prebuilt koffi.node directly 6–1 ms. The JavaScript entry adds only
// deprecated aliases around the native module; tern uses load(), func() and errno(), which
// the native module has itself (src/util/libc.ts). Any other platform, or a prebuilt that does not load (musl),
// goes through require('koffi'), which knows them all.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let koffi: unknown;

/** koffi's module (typed by its user, src/util/libc.ts); throws what require('koffi') throws. */
export function loadKoffi(): unknown {
  if (koffi) return koffi;
  const require = createRequire(import.meta.url);
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      const root = dirname(require.resolve('koffi'));
      const pkg = require(join(root, 'package.json')) as { version: string };
      const native = require(join(root, 'build', 'koffi', `linux_${process.arch}`, 'koffi.node')) as { version?: string };
      if (native.version === pkg.version) return (koffi = native);
    } catch {
      // not this layout or not loadable here: koffi's own loader below
    }
  }
  return (koffi = require('koffi') as unknown);
}
