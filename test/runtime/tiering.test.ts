// Late tiering (src/runtime/v8-flags.ts): V8's interrupt budget changed at run time reaches the
// functions run afterwards. A real `node --allow-natives-syntax` process loads the built module
// and counts the calls a new function takes to be optimized: many with the steady budget,
// V8's usual few once a burst began, many again after the burst's quiet time. Needs `npm run build`.
import t from 'tap';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FLAGS = pathToFileURL(resolve(import.meta.dirname, '..', '..', 'dist', 'runtime', 'v8-flags.js')).href;

const PROBE = `
const { startLateTiering, tieringBurst } = await import(${JSON.stringify(FLAGS)});
// Calls until a new function (its own source, so its own bytecode and no feedback yet) runs optimized code.
let made = 0;
const callsToOptimize = () => {
  const f = new Function('a', 'let s = ' + made++ + '; for (let i = 0; i < 20; i++) s += (a * i) ^ (i >> 1); return s');
  for (let n = 1; n <= 20000; n++) { f(n); if (%GetOptimizationStatus(f) & 16) return n; }
  return 20000;
};
const out = { plain: callsToOptimize() };
startLateTiering();
out.steady = callsToOptimize();
tieringBurst(true);
out.burst = callsToOptimize();
tieringBurst(false);
out.justAfter = callsToOptimize();
await new Promise((r) => setTimeout(r, 1200));
out.quiet = callsToOptimize();
process.stdout.write(JSON.stringify(out));
`;

t.test('the steady budget delays optimization; a burst gives V8 its default back, its end the steady budget', async (t) => {
  // Without the test runner's coverage and loaders (V8 coverage changes when functions tier up);
  // TurboFan on the main thread, so that a busy machine does not delay a finished compilation.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^NODE_(OPTIONS|V8_COVERAGE)$/.test(k)));
  const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', PROBE], { env });
  const r = JSON.parse(stdout) as Record<string, number>;
  t.ok(r.plain! < 500, `V8's default: optimized after ${r.plain} calls`);
  t.ok(r.steady! > 3 * r.plain!, `steady budget: ${r.steady} calls`);
  t.ok(r.burst! < 500, `during a burst: ${r.burst} calls`);
  t.ok(r.justAfter! < 500, `right after the burst (quiet time not over): ${r.justAfter} calls`);
  t.ok(r.quiet! > 3 * r.plain!, `after the quiet time: ${r.quiet} calls`);
});
