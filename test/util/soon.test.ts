// soon(): a callback runs right after the current one (a microtask, in queue order with
// other microtasks), can be cancelled, falls back to the next loop pass after
// SOON_MICROTASKS runs in one pass, and an exception it throws is an uncaught exception.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { soon } from '../../src/util/soon.js';

const nextPass = () => new Promise<void>((r) => setImmediate(r));
/** Starts from a zero count: enough runs to arm the reset, then two passes. */
async function freshCount(): Promise<void> {
  for (let i = 0; i < 20; i++) soon(() => undefined);
  await nextPass();
  await nextPass();
}

t.test('runs after the current callback, before the next loop pass, in microtask order', async (t) => {
  await freshCount();
  const order: string[] = [];
  setImmediate(() => order.push('immediate'));
  soon(() => order.push('soon 1'));
  queueMicrotask(() => order.push('microtask'));
  soon(() => order.push('soon 2'));
  order.push('sync');
  await new Promise<void>((r) => setImmediate(r));
  t.same(order, ['sync', 'soon 1', 'microtask', 'soon 2', 'immediate']);
});

t.test('a chain of stages runs in one pass; cancel stops a callback', async (t) => {
  await freshCount();
  const order: string[] = [];
  let sawImmediate = false;
  setImmediate(() => { sawImmediate = true; });
  soon(() => { order.push('flush'); soon(() => { order.push('tick'); soon(() => order.push('write')); }); });
  const h = soon(() => order.push('cancelled'));
  h.cancel();
  await Promise.resolve();
  await Promise.resolve();
  await Promise.resolve();
  await Promise.resolve();
  t.same(order, ['flush', 'tick', 'write']);
  t.notOk(sawImmediate, 'all before the next pass');
});

t.test('after 16 runs in one pass the rest wait for the next pass, then run again at once', async (t) => {
  await freshCount();
  const ran: number[] = [];
  for (let i = 0; i < 20; i++) soon(() => ran.push(i));
  await Promise.resolve();
  t.equal(ran.length, 16, '16 as microtasks');
  await nextPass();
  await nextPass();
  t.equal(ran.length, 20, 'the rest in a later pass');
  let again = false;
  soon(() => { again = true; });
  await Promise.resolve();
  t.ok(again, 'the count starts again in a new pass');
});

t.test('an idle event arms no reset; the count carries over until it reaches half, and a busy pass still gets at least 9 runs', async (t) => {
  await freshCount();
  let immediates = 0;
  const { setImmediate: real } = globalThis;
  globalThis.setImmediate = ((fn: (...a: unknown[]) => void, ...a: unknown[]) => { immediates++; return real(fn, ...a); }) as typeof setImmediate;
  try {
    for (let pass = 0; pass < 2; pass++) { // two idle events of 3 stages each: 6 runs
      soon(() => soon(() => soon(() => undefined)));
      await Promise.resolve(); await Promise.resolve(); await Promise.resolve();
      t.equal(immediates, 0, `event ${pass + 1}: no Immediate armed`);
      await new Promise<void>((r) => real(r));
    }
  } finally {
    globalThis.setImmediate = real;
  }
  const ran: number[] = [];
  for (let i = 0; i < 16; i++) soon(() => ran.push(i));
  await Promise.resolve();
  t.equal(ran.length, 10, 'the 6 carried over and 10 more make 16; the rest wait for the next pass');
  await nextPass();
  await nextPass();
  t.equal(ran.length, 16);
});

t.test('an exception thrown by the callback is an uncaught exception, not an unhandled rejection', async (t) => {
  const soonUrl = new URL('../../src/util/soon.ts', import.meta.url).href;
  const code = `process.on('unhandledRejection', () => { console.log('rejection'); process.exit(3); });
process.on('uncaughtException', (e) => { console.log('uncaught ' + e.message); process.exit(2); });
const { soon } = await import(${JSON.stringify(soonUrl)});
soon(() => { throw new Error('boom'); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  t.equal(r.stdout.trim(), 'uncaught boom', r.stderr);
  t.equal(r.status, 2);
});
