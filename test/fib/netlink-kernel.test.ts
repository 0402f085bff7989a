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

t.test('60k writes while watching: our own echoes never read, other writers still seen', { skip: canUseNetns() }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/fib/fixtures/netns-watch-script.ts', '60000'], { cwd: ROOT, encoding: 'utf8' });
  const r = JSON.parse(out) as { added: number; filtered: boolean; byLoop: boolean; requestsByLoop: boolean; events: number; read: number; lost: number; dumped: number; foreign: string[] };
  t.equal(r.requestsByLoop, true, 'writes and dumps through the loop-read request socket');
  t.equal(r.dumped, 60000, 'every write landed');
  t.equal(r.filtered, true, 'the echo filter is attached');
  t.equal(r.byLoop, true, 'the event loop reads the socket (no poll thread)');
  // the kernel drops the notifications stamped with our write socket's port id
  t.equal(r.read, 0, 'no notification datagram read for 60 000 writes of our own');
  t.equal(r.events, 0, 'no route notification handled for them');
  t.equal(r.lost, 0, 'and no overrun');
  // changes by another process (ip route: its own port id) still arrive, proto bird included
  t.same(r.foreign.sort(), [
    'add 10.99.0.0/24 proto 4', 'add 10.99.1.0/24 proto 12', 'del 10.0.0.0/26 proto 12',
  ]);
});

t.test('60k writes, fallback (no echo filter, poll thread): paced, no crash, no notification lost silently', { skip: canUseNetns() }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/fib/fixtures/netns-watch-script.ts', '60000', 'fallback'], { cwd: ROOT, encoding: 'utf8' });
  const r = JSON.parse(out) as { filtered: boolean; byLoop: boolean; requestsByLoop: boolean; events: number; lost: number; dumped: number; foreign: string[] };
  t.equal(r.filtered, false);
  t.equal(r.byLoop, false);
  t.equal(r.requestsByLoop, false, "writes and dumps through npm netlink's socket");
  t.equal(r.dumped, 60000);
  // every notification of our writes arrives, or the loss is reported (the caller re-dumps)
  t.ok(r.events === 60000 || r.lost > 0, `events ${r.events}, losses reported ${r.lost}`);
  t.equal(r.foreign.length, 3, 'changes by another process seen');
});
