// FibSync over a kernel with write() (each prefix handed down parsed once: its IPv4 number,
// -1 for IPv6), driven at random through the moves one prefix makes: a BGP route, its next
// hops going from one to several and back (ECMP ↔ single), withdrawn, the same prefix an own
// block (blackhole) over the BGP route and back, /0 and host routes of both families, prefixes
// given with host bits set. After every tick the kernel must hold exactly what is wanted, and
// every write must have been handed the number of its own prefix.
import t from 'tap';
import { canonicalPrefix, type Family } from '../../src/net/prefix.js';
import { WritingFakeKernel, connected } from './fixtures/fake-kernel.js';
import { settle, setup } from './fixtures/fib-sync-setup.js';
import { prng as rng } from '../bgp/wire/helpers.js';

/** A canonical IPv4 prefix as its number (address × 64 + length), by division: no shared code with parseIpv4Prefix. */
function v4Oracle(prefix: string): number {
  const [addr, len] = prefix.split('/') as [string, string];
  return addr.split('.').reduce((n, o) => n * 256 + Number(o), 0) * 64 + Number(len);
}

/** Each prefix as it may be given (with host bits set or not) → its canonical form. */
const PREFIXES: readonly (readonly [string, string])[] = [
  ['0.0.0.0/0', '0.0.0.0/0'], ['1.2.3.4/0', '0.0.0.0/0'],
  ['10.244.3.7/32', '10.244.3.7/32'], ['255.255.255.255/32', '255.255.255.255/32'],
  ['10.244.1.0/26', '10.244.1.0/26'], ['10.244.1.63/26', '10.244.1.0/26'],
  ['10.244.2.0/26', '10.244.2.0/26'], ['192.168.0.0/16', '192.168.0.0/16'], ['192.168.255.1/16', '192.168.0.0/16'],
  ['128.0.0.0/1', '128.0.0.0/1'], ['200.0.0.1/1', '128.0.0.0/1'],
  ['::/0', '::/0'], ['2001:db8::1/0', '::/0'], ['2001:db8::/32', '2001:db8::/32'], ['2001:db8:ffff::/32', '2001:db8::/32'],
  ['2001:db8::1/128', '2001:db8::1/128'], ['fd00:10:244::/122', 'fd00:10:244::/122'], ['fd00:10:244::3f/122', 'fd00:10:244::/122'],
];
const HOPS: Record<Family, readonly string[]> = { ipv4: ['10.0.0.12', '10.0.0.13', '10.0.0.14'], ipv6: ['fd00::12', 'fd00::13'] };
const famOf = (p: string): Family => (p.includes(':') ? 'ipv6' : 'ipv4');

for (const seed of [1, 2, 3, 4]) {
  t.test(`seed ${seed}: a prefix moving between ECMP, one next hop, a blackhole and nothing: the kernel as wanted, each write handed its own prefix`, async (t) => {
    const r = rng(seed);
    const kernel = new WritingFakeKernel();
    kernel.add(connected('fd00::/64', 2));
    const { fib } = await setup({ kernel });
    const routes = new Map<string, string[]>(); // canonical prefix → next hops set last
    let blocks: string[] = []; // canonical own blocks
    for (let step = 0; step < 150; step++) {
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) {
        const [given, canonical] = PREFIXES[Math.floor(r() * PREFIXES.length)]!;
        t.equal(canonicalPrefix(given), canonical, `${given} is ${canonical}`);
        if (r() < 0.8) {
          const hops = HOPS[famOf(canonical)];
          const x = r();
          const nh = x < 0.2 ? null : x < 0.55 ? [hops[Math.floor(r() * hops.length)]!] : hops.filter(() => r() < 0.7);
          fib.setRoute(given, nh);
          if (nh === null || nh.length === 0) routes.delete(canonical); else routes.set(canonical, [...new Set(nh)].sort());
        } else {
          const next = new Set(blocks);
          if (next.has(canonical)) next.delete(canonical); else next.add(canonical);
          blocks = [...next];
          // the blocks as a datastore may spell them (host bits set): FibSync makes them canonical
          fib.setOwnBlocks(blocks.map((b) => { const ways = PREFIXES.filter(([, c]) => c === b); return ways[Math.floor(r() * ways.length)]![0]; }));
        }
      }
      if (r() < 0.3 && step < 149) continue; // changes pile up over several steps before a tick
      const callsBefore = kernel.calls.length;
      await settle(fib);
      const want = new Map<string, string>();
      const slot = (p: string): string => (famOf(p) === 'ipv4' ? 'ipv4 metric 0' : 'ipv6 metric 1024');
      for (const [p, nh] of routes) want.set(p, `${slot(p)} unicast ${nh.join(',')}`);
      for (const b of blocks) if (!b.endsWith(famOf(b) === 'ipv4' ? '/32' : '/128')) want.set(b, `${slot(b)} blackhole`); // an own block over a BGP route; none for a host block
      const got = new Map<string, string>();
      for (const k of kernel.routes.values()) {
        if (k.protocol !== 12) continue;
        if (got.has(k.prefix)) t.fail(`step ${step}: two routes of ours at ${k.prefix}`);
        got.set(k.prefix, `${k.family} metric ${k.metric} ${k.type === 'blackhole' ? 'blackhole' : `${k.type} ${k.nextHops.map((h) => h.gateway).sort().join(',')}`}`);
      }
      t.same(Object.fromEntries([...got].sort()), Object.fromEntries([...want].sort()), `step ${step}: the kernel holds what is wanted`);
      for (const c of kernel.calls.slice(callsBefore)) {
        const v4 = famOf(c.prefix) === 'ipv6' ? -1 : v4Oracle(c.prefix);
        if (c.v4 !== v4) t.fail(`step ${step}: ${c.op} ${c.prefix} handed ${c.v4}, its number is ${v4}`);
        if (canonicalPrefix(c.prefix) !== c.prefix) t.fail(`step ${step}: ${c.op} of a prefix not canonical: ${c.prefix}`);
      }
    }
    t.equal(kernel.writes.length, kernel.calls.length, 'every write through write()');
    t.ok(kernel.calls.some((c) => c.prefix === '0.0.0.0/0') && kernel.calls.some((c) => c.prefix === '::/0'), 'default routes of both families written');
  });
}
