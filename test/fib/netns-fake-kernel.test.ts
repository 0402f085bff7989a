// The fake kernel (fixtures/fake-kernel.ts) against the real one, in a namespace the test
// makes: the same seeded sequences of requests (FibSync's replace, create and remove;
// another program's add, replace, delete and IPv6 append; both families, single and ECMP
// next hops, blackholes, two metrics) give the same answers, the same routes and the same
// notifications (fixtures/netns-fake-vs-kernel-script.ts). Then the two cases where the
// real kernel showed that a delete must name our route (fixtures/netns-delete-script.ts).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Netns, canUseNetns } from './fixtures/netns-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skip = canUseNetns();
const inNs = (ns: Netns, script: string, ...args: string[]): string =>
  execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', `test/fib/fixtures/${script}`, ...args], { cwd: ROOT, encoding: 'utf8' });

t.test('the fake kernel answers, keeps and notifies what the real kernel does (seeded sequences, both families)', { skip }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  const seeds = Array.from({ length: 24 }, (_, i) => String(i + 1));
  const r = JSON.parse(inNs(ns, 'netns-fake-vs-kernel-script.ts', ...seeds)) as { ops: number; byKind: Record<string, number>; mismatches: string[] };
  t.same(r.mismatches, [], 'no difference');
  t.equal(r.ops, 24 * 40, 'every request compared');
  for (const kind of ['ours replace', 'ours create', 'ours remove', 'theirs add', 'theirs replace', 'theirs remove', 'theirs append']) {
    t.ok((r.byKind[kind] ?? 0) >= 20, `${kind}: ${r.byKind[kind]}`);
  }
});

t.test('a delete names our route: never an IPv4 proto-bird route at another metric, never an IPv6 sibling another appended', { skip }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  const r = JSON.parse(inNs(ns, 'netns-delete-script.ts')) as { v4: { answer: string; left: string }; v6: { answer: string; left: string } };
  t.equal(r.v4.answer, 'ERR_FIB_NETLINK_ESRCH', 'IPv4: ours already gone');
  t.equal(r.v4.left, 'blackhole 10.244.6.0/26 proto bird metric 100', 'the blackhole at metric 100 stays');
  t.equal(r.v6.answer, 'done');
  t.equal(r.v6.left, 'fd00:244:6::/64 via fd00:0:0:1::99 dev eth0 proto static metric 1024 pref medium', 'only our sibling went');
});
