// The V8 code cache loader (src/runtime/launch.ts, built into dist/bundle/launch.cjs): a
// missing, corrupt, stale or foreign cache never stops a start (the bundle is compiled from
// source), a cache whose content changed is refused by V8's checksum, a bundle file changed
// after its cache was written (even at the same length) never runs the cache's old code, a
// saved cache is used by the next start, daemons saving at once leave one whole
// cache, and a cache written with run-time flags back at their defaults (v8-flags.ts) is
// accepted by a start that set none. Each start is a real `node` process. Needs `npm run build`.
import t from 'tap';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Script } from 'node:vm';
import { setRuntimeFlag, withDefaultFlags } from '../../src/runtime/v8-flags.js';

const run = promisify(execFile);
const LAUNCH = resolve(import.meta.dirname, '..', '..', 'dist', 'bundle', 'launch.cjs');

// A stand-in bundle, wrapped as scripts/bundle.mjs wraps the real one: reports how its start
// found the cache and saves it when asked (SAVE), and once more after running another
// function (SAVE_AGAIN), after full GCs that flush unused bytecode when asked (FLUSH).
const BUNDLE = `(function (exports, require, module, __filename, __dirname) {
const hook = globalThis[Symbol.for('tern.codeCache')];
function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
function setup() { const o = {}; for (const k of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) { o[k] = k.toUpperCase() + ':' + k.length; if (k.length > 4) o[k + 's'] = [k, k.length * 2].join('/'); } return Object.keys(o).map((k) => o[k]).join('|').length; }
setup();
process.stdout.write(hook.status + ' ' + work(10) + ' ' + typeof require + ' ' + __filename.endsWith('b.cjs') + '\\n');
if (process.env.SAVE) hook.save();
function later() { const parts = []; for (let i = 0; i < 3; i++) parts.push(String(i * 7)); return parts.join(','); }
if (process.env.FLUSH) for (let i = 0; i < 8; i++) gc();
if (process.env.SAVE_AGAIN) { later(); hook.save(); }
})`;

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tern-cc-'));
  writeFileSync(join(d, 'b.cjs'), BUNDLE);
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function start(d: string, opts: { save?: boolean; saveAgain?: boolean; flush?: boolean; nodeArgs?: string[] } = {}): Promise<string> {
  const code = `require(${JSON.stringify(LAUNCH)}).launch(${JSON.stringify(join(d, 'b.cjs'))})`;
  const env = { ...process.env, ...(opts.save ? { SAVE: '1' } : {}), ...(opts.saveAgain ? { SAVE_AGAIN: '1' } : {}), ...(opts.flush ? { FLUSH: '1' } : {}) };
  const { stdout } = await run(process.execPath, [...(opts.nodeArgs ?? []), '-e', code], { env });
  return stdout.trim();
}

const cacheOf = (d: string) => join(d, 'b.cjs.cache');
/** launch.ts's header: magic, build id, the bundle file's size and mtime, V8's length. */
const HEADER = 8 + 40 + 16 + 4;

t.before(() => {
  if (!existsSync(LAUNCH)) throw new Error('dist/bundle/launch.cjs missing: run `npm run build` first');
});

t.test('missing → saved → used', async (t) => {
  const d = dir(t);
  t.equal(await start(d), 'missing 45 function true', 'runs without a cache, with require and __filename');
  t.notOk(existsSync(cacheOf(d)), 'nothing written unless the program asks');
  t.equal(await start(d, { save: true }), 'missing 45 function true');
  t.ok(existsSync(cacheOf(d)), 'saved');
  t.equal(await start(d, { save: true }), 'used 45 function true', 'the next start uses it');
  t.same(readdirSync(d).sort(), ['b.cjs', 'b.cjs.cache'], 'no temporary file left');
});

t.test('saved again later in the same start: the second write replaces the first, with what ran since', async (t) => {
  const d = dir(t);
  await start(d, { save: true });
  const once = readFileSync(cacheOf(d)).length;
  rmSync(cacheOf(d));
  t.equal(await start(d, { save: true, saveAgain: true }), 'missing 45 function true');
  const twice = readFileSync(cacheOf(d)).length;
  t.ok(twice > once, `the function run between the writes is in the second (${once} → ${twice} octets)`);
  t.equal(await start(d, { save: true, saveAgain: true }), 'used 45 function true', 'used by the next start, which writes nothing');
  t.equal(readFileSync(cacheOf(d)).length, twice);
  t.same(readdirSync(d).sort(), ['b.cjs', 'b.cjs.cache']);
});

t.test('a second write that would be smaller (bytecode flushed since the first) is not made', async (t) => {
  const d = dir(t);
  const nodeArgs = ['--expose-gc', '--stress-flush-code']; // V8 flushes unused bytecode at each full GC
  t.equal(await start(d, { save: true, nodeArgs }), 'missing 45 function true');
  const first = readFileSync(cacheOf(d));
  rmSync(cacheOf(d));
  t.equal(await start(d, { save: true, flush: true, saveAgain: true, nodeArgs }), 'missing 45 function true');
  const kept = readFileSync(cacheOf(d)).length;
  t.ok(kept >= first.length, `the first write stays (${first.length} octets after one write, ${kept} after the refused second)`);
});

t.test('a corrupt or truncated cache is ignored and replaced', async (t) => {
  const d = dir(t);
  await start(d, { save: true });
  const good = readFileSync(cacheOf(d));
  for (const at of [good.length - 100, good.length >> 1, HEADER + 40]) { // inside V8's data; V8's header
    const flipped = Buffer.from(good);
    flipped[at] = flipped[at]! ^ 0x55;
    writeFileSync(cacheOf(d), flipped);
    t.equal(await start(d, { save: true }), 'rejected 45 function true', `octet ${at} changed: V8's checksum refuses it`);
    t.equal(await start(d), 'used 45 function true', 'rewritten whole');
  }
  writeFileSync(cacheOf(d), good.subarray(0, good.length >> 1));
  t.equal(await start(d), 'corrupt 45 function true', 'truncated');
  writeFileSync(cacheOf(d), 'not a cache');
  t.equal(await start(d), 'corrupt 45 function true', 'garbage');
});

t.test('a cache of another build is not used', async (t) => {
  const d = dir(t);
  await start(d, { save: true });
  const other = readFileSync(cacheOf(d));
  other.write('0'.repeat(40), 8, 'latin1'); // the build id field
  writeFileSync(cacheOf(d), other);
  t.equal(await start(d), 'missing 45 function true');
});

t.test('a bundle file changed after its cache was written: compiled from source, not the cached old code', async (t) => {
  const d = dir(t);
  await start(d, { save: true });
  t.equal(await start(d), 'used 45 function true');
  const file = join(d, 'b.cjs');
  const edited = BUNDLE.replace('work(10)', 'work(11)'); // the same length: V8 alone would accept the old cache
  t.equal(edited.length, BUNDLE.length);
  const { mtime } = statSync(file);
  writeFileSync(file, edited);
  utimesSync(file, mtime, new Date(mtime.getTime() + 2000)); // edited later, as a copy or an edit in place would be
  t.equal(await start(d, { save: true }), 'missing 55 function true', 'the new code runs; the old cache is not used');
  t.equal(await start(d), 'used 55 function true', 'a cache of the new file replaces it');
  writeFileSync(file, BUNDLE + ' '); // another size
  t.equal(await start(d), 'missing 45 function true');
});

t.test('a cache made under other V8 flags is rejected by V8 and replaced', async (t) => {
  const d = dir(t);
  await start(d, { save: true, nodeArgs: ['--max-lazy'] });
  t.equal(await start(d, { save: true }), 'rejected 45 function true');
  t.equal(await start(d), 'used 45 function true');
});

t.test('daemons saving at once leave one whole cache', async (t) => {
  const d = dir(t);
  const outs = await Promise.all(Array.from({ length: 8 }, () => start(d, { save: true })));
  t.ok(outs.every((o) => o === 'missing 45 function true' || o === 'used 45 function true'), 'each start found no cache or a whole one');
  t.same(readdirSync(d).sort(), ['b.cjs', 'b.cjs.cache']);
  t.equal(await start(d), 'used 45 function true');
});

t.test('a directory that cannot be written: the start goes on without a cache', { skip: process.getuid?.() === 0 ? 'root writes anyway' : false }, async (t) => {
  const d = dir(t);
  chmodSync(d, 0o555);
  t.teardown(() => chmodSync(d, 0o755));
  t.equal(await start(d, { save: true }), 'missing 45 function true');
  t.notOk(existsSync(cacheOf(d)));
});

t.test('withDefaultFlags: a cache written after a run-time flag change is accepted by a fresh start', async (t) => {
  const d = dir(t);
  const source = 'function g(x) { return x * 2 } g(21);';
  const script = new Script(source);
  script.runInThisContext();
  setRuntimeFlag('semi-space-growth-factor', '--semi-space-growth-factor=1', '--semi-space-growth-factor=2');
  const plain = script.createCachedData();
  const restored = withDefaultFlags(() => script.createCachedData());
  writeFileSync(join(d, 'plain'), plain);
  writeFileSync(join(d, 'restored'), restored);
  const check = (f: string) => `const { Script } = require('node:vm'); const s = new Script(${JSON.stringify(source)}, { cachedData: require('node:fs').readFileSync(${JSON.stringify(join(d, f))}) }); process.stdout.write(String(s.cachedDataRejected));`;
  t.equal((await run(process.execPath, ['-e', check('plain')])).stdout, 'true', 'written with the flag set: rejected');
  t.equal((await run(process.execPath, ['-e', check('restored')])).stdout, 'false', 'written inside withDefaultFlags: accepted');
});
