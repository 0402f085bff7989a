// Scavenge when quiet (src/runtime/idle-gc.ts): no scavenge while route activity goes on, one
// once it has been quiet for QUIET_MS with the young generation at least MIN_FILL full, none
// when it is emptier than that. A real node process loads the built module (its V8 flags stay
// out of the test runner). Needs `npm run build`.
import t from 'tap';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MOD = pathToFileURL(resolve(import.meta.dirname, '..', '..', 'dist', 'runtime', 'idle-gc.js')).href;

const PROBE = `
const { routeActivity, quietScavenges, youngFill, QUIET_MS, MIN_FILL } = await import(${JSON.stringify(MOD)});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const keep = [];
while (youngFill() < MIN_FILL + 0.1) for (let i = 0; i < 200; i++) keep.push({ a: i, b: [i] });
const out = { filled: youngFill() };
// activity every 10 ms for longer than QUIET_MS (a loaded machine may delay a timer by far more than 10 ms, not by QUIET_MS)
for (let i = 0; i < 30; i++) { routeActivity(); await sleep(10); }
out.whileBusy = quietScavenges();
// quiet is seen between QUIET_MS and 2 × QUIET_MS after the last activity (the timer re-arms once)
await sleep(QUIET_MS * 3);
out.afterQuiet = quietScavenges();
out.fillAfter = youngFill();
keep.length = 0;
routeActivity();
await sleep(QUIET_MS * 3);
out.afterQuietEmpty = quietScavenges();
console.log(JSON.stringify(out));
`;

t.test('a scavenge once route activity is quiet, not while it goes on, not when the young generation is nearly empty', async (t) => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE]);
  const r = JSON.parse(stdout) as { filled: number; whileBusy: number; afterQuiet: number; fillAfter: number; afterQuietEmpty: number };
  t.ok(r.filled >= 0.35, `young generation filled to ${r.filled.toFixed(2)}`);
  t.equal(r.whileBusy, 0, 'none while activity goes on');
  t.equal(r.afterQuiet, 1, 'one once it is quiet');
  t.ok(r.fillAfter < 0.25, `young generation emptied (${r.fillAfter.toFixed(2)})`);
  t.equal(r.afterQuietEmpty, 1, 'none when it was nearly empty');
});
