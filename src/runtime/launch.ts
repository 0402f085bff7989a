// The loader bin/tern runs: compiles the bundle (dist/bundle/main.cjs) through vm.Script
// with a V8 code cache and runs it as a CommonJS module. Built by scripts/bundle.mjs into
// dist/bundle/launch.cjs; it imports only Node built-ins.
//
// Why: a node's start is mostly Node booting and V8 parsing and compiling the bundle
// (docs/benchmarks.md, round 2, "start-up"). Node 20 has no module.enableCompileCache; a
// script compiled with `cachedData` takes V8's compiled functions from the cache instead.
//
// The cache file, dist/bundle/main.cjs.cache: "TERNCC1\n", the bundle's build id (40 hex
// characters, set at build), the SHA-1 of the payload (20 bytes), then V8's cache data.
// Invariants:
// - a cache is used only for the bundle it was made from (build id) and only when intact
//   (SHA-1; V8 itself checks its version, its flags and the source length, not the content);
//   anything else is ignored and the bundle compiled from source, as without a cache;
// - it is written to a file of this process (…<pid>.tmp) and renamed over the cache: daemons
//   starting at once each write a whole file and readers see an old or a new one, never a
//   mix; a write that fails (read-only dist/) is ignored;
// - it is written by the daemon after its first session (code-cache.ts), when the functions
//   a start runs are compiled, and only when this start did not use a valid cache.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import type { CodeCacheHook } from './code-cache.js';

declare const TERN_BUNDLE_ID: string; // defined by scripts/bundle.mjs

const MAGIC = 'TERNCC1\n';
const HEADER = MAGIC.length + 40 + 20;

function readCache(file: string): Buffer | 'missing' | 'corrupt' {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch {
    return 'missing';
  }
  if (raw.length <= HEADER || raw.toString('latin1', 0, MAGIC.length) !== MAGIC) return 'corrupt';
  if (raw.toString('latin1', MAGIC.length, MAGIC.length + 40) !== TERN_BUNDLE_ID) return 'missing'; // another build's cache
  const payload = raw.subarray(HEADER);
  const sum = createHash('sha1').update(payload).digest();
  return sum.equals(raw.subarray(MAGIC.length + 40, HEADER)) ? payload : 'corrupt';
}

function writeCache(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const head = Buffer.from(MAGIC + TERN_BUNDLE_ID, 'latin1');
    writeFileSync(tmp, Buffer.concat([head, createHash('sha1').update(data).digest(), data]));
    renameSync(tmp, file);
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
  }
}

/** Runs the bundle at `bundle` (an absolute path) as the main program. */
export function launch(bundle: string): void {
  const cacheFile = `${bundle}.cache`;
  const source = readFileSync(bundle, 'latin1'); // ASCII only (scripts/bundle.mjs)
  const cached = readCache(cacheFile);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: bundle, ...(typeof cached === 'object' ? { cachedData: cached } : {}) });
  const status: CodeCacheHook['status'] = typeof cached === 'object' ? (script.cachedDataRejected ? 'rejected' : 'used') : cached;
  let saved = false;
  const hook: CodeCacheHook = {
    status,
    save: () => {
      if (saved || status === 'used') return;
      saved = true;
      writeCache(cacheFile, script.createCachedData());
    },
  };
  (globalThis as Record<symbol, unknown>)[Symbol.for('tern.codeCache')] = hook;
  const mod = { exports: {} };
  const run = script.runInThisContext() as (e: object, r: NodeRequire, m: object, f: string, d: string) => void;
  run(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
}
