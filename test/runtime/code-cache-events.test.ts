// When the daemon writes the V8 code cache (src/runtime/code-cache.ts): 1 s after its first
// session, then once more 1 s after the first route event that comes after that write; route
// events before the first write arm nothing (that write holds their code), a first route event
// more than ROUTE_WRITE_WINDOW_MS after the first write arms nothing (V8 may have flushed the
// start's bytecode by then), and a start that used a valid cache writes nothing. The loader's
// hook is a stand-in counting the writes; each test imports the module afresh; real timers
// (about 6 s in all).
import t from 'tap';
import { CODE_CACHE_HOOK, codeCacheMilestone, codeCacheRouteEvent, ROUTE_WRITE_WINDOW_MS } from '../../src/runtime/code-cache.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh instance of the module (its own state), with the stand-in hook counting writes. */
async function fresh(t: { teardown(fn: () => void): void }, status: string, tag: string) {
  const m = (await import(`../../src/runtime/code-cache.js?${tag}`)) as typeof import('../../src/runtime/code-cache.js');
  const counter = { writes: 0 };
  (globalThis as Record<symbol, unknown>)[CODE_CACHE_HOOK] = { status, save: () => { counter.writes++; } };
  t.teardown(() => { delete (globalThis as Record<symbol, unknown>)[CODE_CACHE_HOOK]; });
  return { m, counter };
}

t.test('first session, then the first route event after that write: two writes, no more', async (t) => {
  let writes = 0;
  (globalThis as Record<symbol, unknown>)[CODE_CACHE_HOOK] = { status: 'missing', save: () => { writes++; } };
  t.teardown(() => { delete (globalThis as Record<symbol, unknown>)[CODE_CACHE_HOOK]; });
  codeCacheRouteEvent(); // the initial table, before any write
  codeCacheMilestone('firstSession');
  codeCacheRouteEvent();
  await sleep(1300);
  t.equal(writes, 1, 'the first session\'s write; the events before it armed nothing');
  codeCacheMilestone('firstSession'); // a later session: the first write is done
  codeCacheRouteEvent(); // the first route event after it
  codeCacheRouteEvent();
  await sleep(600);
  t.equal(writes, 1, 'not before its delay');
  await sleep(800);
  t.equal(writes, 2, 'written once more after the first route event');
  codeCacheRouteEvent();
  codeCacheMilestone('started');
  await sleep(1300);
  t.equal(writes, 2, 'no third write');
});

t.test('the first route event long after the first write: no second write', async (t) => {
  const { m, counter } = await fresh(t, 'missing', 'late');
  m.codeCacheMilestone('firstSession');
  await sleep(1300);
  t.equal(counter.writes, 1);
  m.codeCacheRouteEvent(Date.now() + ROUTE_WRITE_WINDOW_MS + 1000);
  m.codeCacheRouteEvent();
  await sleep(1300);
  t.equal(counter.writes, 1, 'the start\'s bytecode may be flushed by then: not written again');
});

t.test('a start that used a valid cache writes nothing', async (t) => {
  const { m, counter } = await fresh(t, 'used', 'used');
  m.codeCacheMilestone('firstSession');
  m.codeCacheRouteEvent();
  await sleep(1300);
  m.codeCacheRouteEvent();
  await sleep(1300);
  t.equal(counter.writes, 0);
});
