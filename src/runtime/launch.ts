// The loader bin/tern runs: compiles the bundle (dist/bundle/main.cjs) through vm.Script
// with a V8 code cache and runs it as a CommonJS module. Built by scripts/bundle.mjs into
// dist/bundle/launch.cjs; it imports only Node built-ins.
//
// Why: a node's start is mostly Node booting and V8 parsing and compiling the bundle
// (docs/benchmarks.md, round 2, "start-up"). Node 20 has no module.enableCompileCache; a
// script compiled with `cachedData` takes V8's compiled functions from the cache instead.
//
// The bundle file is already the CommonJS wrapper, `(function (exports, require, module,
// __filename, __dirname) {…})` (scripts/bundle.mjs): V8 compiles the string as read, with no
// concatenated copy of 1.2 MB to flatten first.
//
// The cache file, dist/bundle/main.cjs.cache: "TERNCC2\n", the bundle's build id (40 hex
// characters, set at build), the length of V8's data (4 octets, little-endian), then V8's
// data, made and read with V8's --verify-snapshot-checksum set: V8 then stores a checksum of
// its data and checks it before deserializing (without the flag it checks its version, its
// flags, the source length and its own length, not the content). The flag is on only while
// V8 reads or writes the cache, so the flag hash every other compilation sees (Node's own
// built-ins' code cache) is V8's default.
// Invariants:
// - a cache is used only for the bundle it was made from (build id) and only when whole
//   (length) and intact (V8's checksum); anything else is ignored and the bundle compiled
//   from source, as without a cache;
// - it is written to a file of this process (…<pid>.tmp) and renamed over the cache: daemons
//   starting at once each write a whole file and readers see an old or a new one, never a
//   mix; a write that fails (read-only dist/) is ignored;
// - it is written by the daemon after its first session (code-cache.ts), when the functions
//   a start runs are compiled, and only when this start did not use a valid cache.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import type { CodeCacheHook } from './code-cache.js';

declare const TERN_BUNDLE_ID: string; // defined by scripts/bundle.mjs

const MAGIC = 'TERNCC2\n';
const HEADER = MAGIC.length + 40 + 4;

function readCache(file: string): Buffer | 'missing' | 'corrupt' {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return 'missing';
  }
  if (raw.length <= HEADER || raw.toString('latin1', 0, MAGIC.length) !== MAGIC) return 'corrupt';
  if (raw.toString('latin1', MAGIC.length, MAGIC.length + 40) !== TERN_BUNDLE_ID) return 'missing'; // another build's cache
  return raw.readUInt32LE(MAGIC.length + 40) === raw.length - HEADER ? raw.subarray(HEADER) : 'corrupt';
}

/** Runs fn with V8's --verify-snapshot-checksum on (a code cache then carries and is checked against V8's checksum). */
function withChecksum<T>(fn: () => T): T {
  setFlagsFromString('--verify-snapshot-checksum');
  try {
    return fn();
  } finally {
    setFlagsFromString('--no-verify-snapshot-checksum');
  }
}

function writeCache(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const head = Buffer.alloc(HEADER);
    head.write(MAGIC + TERN_BUNDLE_ID, 'latin1');
    head.writeUInt32LE(data.length, MAGIC.length + 40);
    writeFileSync(tmp, Buffer.concat([head, data]));
    renameSync(tmp, file);
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
  }
}

/** Runs the bundle at `bundle` (an absolute path; the wrapped CommonJS function) as the main program. */
export function launch(bundle: string): void {
  const cacheFile = `${bundle}.cache`;
  const source = readFileSync(bundle, 'latin1'); // ASCII only (scripts/bundle.mjs)
  const cached = readCache(cacheFile);
  const script = typeof cached === 'object'
    ? withChecksum(() => new Script(source, { filename: bundle, cachedData: cached }))
    : new Script(source, { filename: bundle });
  const status: CodeCacheHook['status'] = typeof cached === 'object' ? (script.cachedDataRejected ? 'rejected' : 'used') : cached;
  let saved = false;
  const hook: CodeCacheHook = {
    status,
    save: () => {
      if (saved || status === 'used') return;
      saved = true;
      writeCache(cacheFile, withChecksum(() => script.createCachedData()));
    },
  };
  (globalThis as Record<symbol, unknown>)[Symbol.for('tern.codeCache')] = hook;
  const mod = { exports: {} };
  const run = script.runInThisContext() as (e: object, r: NodeRequire, m: object, f: string, d: string) => void;
  run(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
}
