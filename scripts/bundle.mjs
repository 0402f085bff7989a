// Bundles the compiled CLI (dist/cli/main.js) into one CommonJS file, dist/bundle/main.cjs,
// and builds its loader dist/bundle/launch.cjs (src/runtime/launch.ts), which bin/tern runs.
// Why: a daemon start on a 2-core node is dominated by Node's boot and by reading and
// compiling our code, which counts when a whole mesh of nodes cold-starts at once
// (docs/benchmarks.md, round 2):
// - one file instead of hundreds (no per-file resolution, reading, CommonJS export lexing);
// - CommonJS, not an ES module: bin/tern then never loads Node's ES module loader;
// - whitespace and syntax minified (names kept, so stack traces stay readable): less to read
//   and pre-parse, and no comments, which made the source non-ASCII;
// - the file is the CommonJS wrapper function itself (banner and footer): the loader compiles
//   it as read, without concatenating a copy of it;
// - ASCII only: V8 keeps a one-byte source string (a single non-ASCII character makes it two
//   bytes per character; the source stays in the heap for lazy compilation);
// - no import(): the loader compiles the bundle with vm.Script, which has no module loader
//   for dynamic imports, so they become require() calls;
// - the loader compiles it with a V8 code cache keyed by the build id written here.
// Kept out of the bundle: `koffi` and `netlink` (native addons, loaded with require) and
// `etcd3` (gRPC; required lazily, only for etcd datastores), except netlink's raw socket
// layer (dist/raw.js, the only part tern uses: src/runtime/netlink-raw.ts), which is bundled
// so that the code cache covers it, its `require('node-gyp-build')` answered by
// src/runtime/netlink-binding.ts (the prebuilt binding loaded directly). dist/ itself stays
// the plain tsc output.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

const out = 'dist/bundle/main.cjs';
for (const old of ['main.js', 'main.js.map', 'main.cjs.cache']) rmSync(`dist/bundle/${old}`, { force: true });

const require = createRequire(import.meta.url);
const netlinkRaw = require.resolve('netlink/dist/raw.js');
const netlinkRawOnly = {
  name: 'netlink-raw-only',
  setup(b) {
    b.onResolve({ filter: /^netlink\/dist\/raw\.js$/ }, () => ({ path: netlinkRaw }));
    b.onResolve({ filter: /^node-gyp-build$/ }, (args) => (dirname(args.importer) === dirname(netlinkRaw)
      ? { path: 'node-gyp-build', namespace: 'netlink-binding' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'netlink-binding' }, () => ({
      contents: `module.exports = require(${JSON.stringify(resolve('dist/runtime/netlink-binding.js'))}).loadNetlinkBinding;`,
      loader: 'js',
      resolveDir: resolve('dist'),
    }));
  },
};

await build({
  entryPoints: ['dist/cli/main.js'],
  plugins: [netlinkRawOnly],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['netlink', 'koffi', 'etcd3'],
  supported: { 'dynamic-import': false },
  // createRequire(import.meta.url) in the sources: the bundle's own URL.
  define: { 'import.meta.url': '__ternBundleUrl' },
  banner: { js: "(function (exports, require, module, __filename, __dirname) {const __ternBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '})' },
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  legalComments: 'none',
  sourcemap: 'linked',
  logLevel: 'warning',
});

// esbuild escapes strings and identifiers but not regular expression literals: escape what
// is left (\uXXXX means the same character inside a regular expression).
const text = readFileSync(out, 'utf8');
const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`); // per UTF-16 unit
if (ascii !== text) writeFileSync(out, ascii);

const id = createHash('sha1').update(ascii).digest('hex');
await build({
  entryPoints: ['src/runtime/launch.ts'],
  outfile: 'dist/bundle/launch.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { TERN_BUNDLE_ID: JSON.stringify(id) },
  logLevel: 'warning',
});
