// NetlinkKernel against the real kernel: pipelined datagrams with failures in the middle;
// every request gets its own answer, matched by sequence number.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Netns, canUseNetns } from './fixtures/netns-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('pipelined writes: errors land on the right request', { skip: canUseNetns() }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/fib/fixtures/netns-pipeline-script.ts'], { cwd: ROOT, encoding: 'utf8' });
  const r = JSON.parse(out) as Record<string, unknown>;
  t.same(r, {
    addOk: 2996,
    addFailed: { ERR_FIB_NETLINK_ENETUNREACH: [500, 1500, 2500], ERR_FIB_NETLINK_ENODEV: [1700] },
    dumped: 2996,
    removeOk: 2996,
    removeFailed: { ERR_FIB_NETLINK_ESRCH: [500, 1500, 1700, 2500] },
    after: 0,
  });
});

t.test('60k paced writes while watching: no crash, and no notification lost silently', { skip: canUseNetns() }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/fib/fixtures/netns-watch-script.ts', '60000'], { cwd: ROOT, encoding: 'utf8' });
  const r = JSON.parse(out) as { added: number; events: number; lost: number; dumped: number };
  t.equal(r.dumped, 60000);
  // every notification of our writes arrives, or the loss is reported (the caller re-dumps)
  t.ok(r.events === 60000 || r.lost > 0, `events ${r.events}, losses reported ${r.lost}`);
});
