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
// characters, the SHA-1 of the bundle set into this loader at build), the size and mtime of
// the bundle file compiled (two float64, little-endian, from the descriptor it was read
// through), the length of V8's data (4 octets, little-endian), then V8's data, made and read
// with V8's --verify-snapshot-checksum set: V8 then stores a checksum of
// its data and checks it before deserializing (without the flag it checks its version, its
// flags, the source length and its own length, not the content). The flag is on only while
// V8 reads or writes the cache, so the flag hash every other compilation sees (Node's own
// built-ins' code cache) is V8's default.
// Invariants:
// - a cache is used only for the bundle it was made from: the same build (build id: a new
//   build also deletes the cache) and the same file (size and mtime: a main.cjs copied in
//   without its loader, or edited in place, does not match), because V8 itself compares only
//   the source's length and would run the old code; and only when whole (length) and intact
//   (V8's checksum); anything else is ignored and the bundle compiled from source, as
//   without a cache (status 'missing' for another bundle, 'corrupt' or 'rejected');
// - it is written to a file of this process (…<pid>.tmp) and renamed over the cache: daemons
//   starting at once each write a whole file and readers see an old or a new one, never a
//   mix; a write that fails (read-only dist/) is ignored;
// - it is written by the daemon after its first session (code-cache.ts), when the functions
//   a start runs are compiled, and once more after its first route events (not when that
//   cache would be smaller than the first: bytecode flushed since), only when this start did
//   not use a valid cache.
import { closeSync, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import type { CodeCacheHook } from './code-cache.js';

declare const TERN_BUNDLE_ID: string; // defined by scripts/bundle.mjs

const MAGIC = 'TERNCC2\n';
const FILE_AT = MAGIC.length + 40; // the bundle file's size, then its mtime (ms)
const LENGTH_AT = FILE_AT + 16;
const HEADER = LENGTH_AT + 4;

/** The bundle file as compiled: its size and mtime (ms). */
interface BundleFile { size: number; mtimeMs: number }

function readCache(file: string, bundle: BundleFile): Buffer | 'missing' | 'corrupt' {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return 'missing';
  }
  if (raw.length <= HEADER || raw.toString('latin1', 0, MAGIC.length) !== MAGIC) return 'corrupt';
  if (raw.toString('latin1', MAGIC.length, FILE_AT) !== TERN_BUNDLE_ID) return 'missing'; // another build's cache
  if (raw.readDoubleLE(FILE_AT) !== bundle.size || raw.readDoubleLE(FILE_AT + 8) !== bundle.mtimeMs) return 'missing'; // another bundle file
  return raw.readUInt32LE(LENGTH_AT) === raw.length - HEADER ? raw.subarray(HEADER) : 'corrupt';
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

function writeCache(file: string, bundle: BundleFile, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const head = Buffer.alloc(HEADER);
    head.write(MAGIC + TERN_BUNDLE_ID, 'latin1');
    head.writeDoubleLE(bundle.size, FILE_AT);
    head.writeDoubleLE(bundle.mtimeMs, FILE_AT + 8);
    head.writeUInt32LE(data.length, LENGTH_AT);
    writeFileSync(tmp, Buffer.concat([head, data]));
    renameSync(tmp, file);
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
  }
}

/** Runs the bundle at `bundle` (an absolute path; the wrapped CommonJS function) as the main program. */
export function launch(bundle: string): void {
  const cacheFile = `${bundle}.cache`;
  const fd = openSync(bundle, 'r');
  let source: string;
  let file: BundleFile;
  try {
    const st = fstatSync(fd); // the file read below, even if main.cjs is replaced meanwhile
    file = { size: st.size, mtimeMs: st.mtimeMs };
    source = readFileSync(fd, 'latin1'); // ASCII only (scripts/bundle.mjs)
  } finally {
    closeSync(fd);
  }
  const cached = readCache(cacheFile, file);
  const script = typeof cached === 'object'
    ? withChecksum(() => new Script(source, { filename: bundle, cachedData: cached }))
    : new Script(source, { filename: bundle });
  const status: CodeCacheHook['status'] = typeof cached === 'object' ? (script.cachedDataRejected ? 'rejected' : 'used') : cached;
  let written = 0;
  const hook: CodeCacheHook = {
    status,
    save: () => {
      if (status === 'used') return;
      const data = withChecksum(() => script.createCachedData());
      // smaller than this process's last write: V8 has flushed the bytecode of functions not
      // run for a few full GCs (the start's own), so that write stays
      if (data.length < written) return;
      written = data.length;
      writeCache(cacheFile, file, data);
    },
  };
  (globalThis as Record<symbol, unknown>)[Symbol.for('tern.codeCache')] = hook;
  const mod = { exports: {} };
  const run = script.runInThisContext() as (e: object, r: NodeRequire, m: object, f: string, d: string) => void;
  run(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
}
