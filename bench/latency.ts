// Scenario 2, latency: two nodes A and B in a mesh (one block each). A blackhole route
// appears in A's kernel; time until B's kernel has it (`ip monitor route` in both namespaces,
// both read by this process, so their read delays cancel; stamped to 0.01 ms). R routes, one
// at a time.
// tern learns a `proto bird` blackhole inside a pool (Calico IPAM style); BIRD's kernel
// protocol (`learn`) never imports `proto bird` routes (it treats them as its own), so on
// the BIRD side the route is added as `proto static`, which BIRD learns as an alien route
// and exports because it lies inside the pool (calico_export_to_bgp_peers step 8).
import { writeFileSync } from 'node:fs';
import { createLab } from '../lab/netns.js';
import { calicoYaml, log, percentile, RouteWatch, sleep, spawnTern, startCalicoBird, type Impl } from './lib.js';

const POOL = '10.244.0.0/16';
const A = { name: 'node-a', host: 'a', ip: '10.202.0.1', block: '10.244.1.0/26' };
const B = { name: 'node-b', host: 'b', ip: '10.202.0.2', block: '10.244.2.0/26' };

export interface LatencyRun { impl: Impl; routes: number; p50: number; p90: number; max: number; samples: number[] }

export async function latencyOnce(impl: Impl, routes: number): Promise<LatencyRun> {
  const lab = createLab(undefined, { area: 'blat' });
  const wa = new RouteWatch(lab, (p) => p.startsWith('10.244.'), true);
  const wb = new RouteWatch(lab, (p) => p.startsWith('10.244.'));
  try {
    await lab.addHost(A.host);
    await lab.addHost(B.host);
    await lab.link(A.host, B.host, { v4: [`${A.ip}/24`, `${B.ip}/24`] });
    await wa.add(A.host);
    await wb.add(B.host);
    if (impl === 'tern') {
      const ds = lab.path('ds.yaml');
      writeFileSync(ds, calicoYaml({
        mesh: true, pools: [{ name: 'bench-pool', cidr: POOL }],
        nodes: [A, B].map((n) => ({ name: n.name, ip: n.ip, len: 24 })), blocks: [A, B].map((n) => ({ node: n.name, cidr: n.block })),
      }));
      for (const n of [A, B]) spawnTern(lab, n.host, ds, n.name, `${n.ip}/24`);
    } else {
      for (const [n, o] of [[A, B], [B, A]] as const) {
        await startCalicoBird(lab, n.host, {
          routerId: n.ip, blocks: [n.block], pools: [POOL],
          peers: [{ name: `Mesh_${o.ip.replace(/\./g, '_')}`, address: o.ip, sourceAddress: n.ip, passive: o.ip > n.ip }],
        }, { recovery: true });
      }
    }
    await wb.until(() => wb.routes.get(B.host)!.has(A.block), 120_000, `${impl}: B has A's block`);
    await sleep(2000); // past start-up work (GR recovery end, first kernel scans)
    const samples: number[] = [];
    for (let i = 0; i < routes; i++) {
      const p = `10.244.${100 + Math.floor(i / 4)}.${(i % 4) * 64}/26`;
      await lab.ip(A.host, 'route', 'add', 'blackhole', p, 'proto', impl === 'tern' ? 'bird' : 'static');
      await wa.until(() => wa.routes.get(A.host)!.has(p), 10_000, `A has ${p}`);
      await wb.until(() => wb.routes.get(B.host)!.has(p), 30_000, `${impl}: B has ${p}`);
      // both stamps taken when this process read the `ip monitor` line (their delays cancel)
      samples.push(+(wb.routes.get(B.host)!.get(p)! - wa.routes.get(A.host)!.get(p)!).toFixed(2));
      await sleep(100 + Math.floor(Math.random() * 100));
    }
    const run: LatencyRun = { impl, routes, p50: percentile(samples, 50), p90: percentile(samples, 90), max: Math.max(...samples), samples };
    log(`latency ${impl}: p50 ${run.p50} ms, p90 ${run.p90} ms, max ${run.max} ms over ${routes} routes`);
    return run;
  } finally {
    wa.close();
    wb.close();
    await lab.destroy();
  }
}
