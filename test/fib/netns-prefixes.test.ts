// NetlinkKernel against the real kernel with prefixes of every length: an IPv4 route's
// message is its body's template with the prefix's number written in, an IPv6 route's is
// encoded from its text. Created, moved to another shape (blackhole ↔ unicast, one next hop ↔
// ECMP) and removed; after each phase the kernel's table, read by iproute2 (`ip -j route`)
// and by our own dump, must hold exactly those prefixes with those shapes.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Netns, canUseNetns, type IpRoute } from './fixtures/netns-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Outcome { want: Record<string, string>; errors: string[]; dumped: Record<string, string>; v4: number; v6: number }

/** `ip -j route show proto bird` of both families: prefix → 'blackhole' or the gateways. */
function ipRoutes(ns: Netns): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [family, host, dflt] of [['-4', '/32', '0.0.0.0/0'], ['-6', '/128', '::/0']] as const) {
    for (const r of ns.routes(family, 'proto', 'bird') as (IpRoute & { type?: string })[]) {
      const prefix = r.dst === 'default' ? dflt : r.dst.includes('/') ? r.dst : `${r.dst}${host}`;
      out[prefix] = r.type === 'blackhole' ? 'blackhole' : (r.nexthops ? r.nexthops.map((h) => h.gateway) : [r.gateway ?? '']).sort().join(',');
    }
  }
  return out;
}

const sorted = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(o).sort());

t.test('prefixes of every length created, moved between shapes and removed: the kernel holds exactly them', { skip: canUseNetns() }, async (t) => {
  const ns = new Netns();
  t.teardown(() => ns.destroy());
  for (const phase of ['create', 'move', 'remove'] as const) {
    const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/fib/fixtures/netns-prefixes-script.ts', phase], { cwd: ROOT, encoding: 'utf8' });
    const r = JSON.parse(out) as Outcome;
    t.same(r.errors, [], `${phase}: every write accepted`);
    t.same(sorted(r.dumped), sorted(r.want), `${phase}: our dump reads back what was written`);
    t.same(sorted(ipRoutes(ns)), sorted(r.want), `${phase}: iproute2 shows what was written`);
    if (phase === 'create') t.equal(new Set(Object.keys(r.want).filter((p) => !p.includes(':')).map((p) => p.split('/')[1])).size, 33, 'IPv4 prefixes of every length /0 to /32');
    if (phase === 'create') t.ok(r.v4 > 100 && r.v6 > 10 && Object.keys(r.want).includes('0.0.0.0/0') && Object.keys(r.want).includes('::/0'), `${r.v4} IPv4 and ${r.v6} IPv6 prefixes, the defaults among them`);
  }
});
