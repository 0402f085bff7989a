// Labs bigger than the kernel's neighbour table (docs/benchmarks.md, "5. Churn").
//
// The ARP table is one for all network namespaces: at most gc_thresh3 dynamic entries in
// total (default 1024; the sysctl exists only in the initial namespace). A full mesh of K
// hosts on one bridge needs K·(K-1) of them, 2 450 at K=50. Past the limit the kernel refuses
// new entries ("neighbour: arp_cache: neighbor table overflow!") and drops the packets, so
// BGP sessions stall in TCP retransmission backoff while staying Established: in the K=50
// mesh benchmark that looked like tern losing withdrawals. `bridge(name, {staticNeighbours})`
// gives every host a permanent entry for every other one, which the limit does not count.
//
// This test puts more hosts on one bridge than the table can resolve at once and has every
// host ping every other one at the same time: with dynamic ARP, k·(k-1) - gc_thresh3 pairs
// (and more while other labs run) get no reply at all.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';

const LIMIT = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim());
/** The smallest mesh whose pairs exceed the table by a margin. */
let K = 2;
while (K * (K - 1) < LIMIT + 256) K++;
const MAX_K = 48;

t.test(`${K} hosts on one bridge (${K * (K - 1)} neighbour pairs, gc_thresh3 ${LIMIT}) all reach each other at once`,
  { skip: K > MAX_K ? `gc_thresh3 is ${LIMIT}: an overflow needs more than ${MAX_K} hosts` : false }, async (t) => {
    const lab = createLab(t, { area: 'neigh' });
    await lab.bridge('fabric', { staticNeighbours: true });
    const ips: string[] = [];
    for (let i = 0; i < K; i++) {
      const ip = `10.232.${i >> 8}.${(i & 255) + 1}`;
      ips.push(ip);
      await lab.addHost(`h${i}`);
      await lab.attach(`h${i}`, 'fabric', { v4: `${ip}/16`, ifName: 'eth0' });
    }
    const perm = await lab.ipJson<{ dst: string; lladdr?: string }[]>('h0', 'neigh', 'show', 'nud', 'permanent');
    t.same(perm.map((n) => n.dst).sort(), ips.slice(1).sort(), 'h0 has a permanent entry for every other host');

    // Every host pings every other one concurrently; a pair counts as reachable with one reply.
    const unreachable = (await Promise.all(ips.map(async (_, i) => {
      const script = ips.filter((_, j) => j !== i)
        .map((ip) => `(ping -q -n -c 5 -i 0.2 -W 2 ${ip} >/dev/null 2>&1 || echo ${ip}) &`).join(' ');
      const out = await lab.exec(`h${i}`, 'sh', ['-c', `${script} wait`], { timeoutMs: 120_000 });
      return out.stdout.split('\n').filter(Boolean).map((ip) => `h${i} → ${ip}`);
    }))).flat();
    t.equal(unreachable.length, 0, `every one of the ${K * (K - 1)} pairs answered (${unreachable.length} did not: ${unreachable.slice(0, 10).join(', ')})`);
  });
