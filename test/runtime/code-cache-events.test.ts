// When the daemon writes the V8 code cache (src/runtime/code-cache.ts): 1 s after its first
// session, then once more 1 s after the first route event that comes after that write; route
// events before the first write arm nothing (that write holds their code), and a start that
// used a valid cache writes nothing. The loader's hook is a stand-in counting the writes;
// real timers (about 4 s in all).
import t from 'tap';
import { CODE_CACHE_HOOK, codeCacheMilestone, codeCacheRouteEvent } from '../../src/runtime/code-cache.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
