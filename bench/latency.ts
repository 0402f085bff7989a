// Scenario 2, latency: two nodes A and B in a mesh (one block each). A blackhole route
// appears in A's kernel; time until B's kernel has it (`ip monitor route` in both namespaces,
// both read by this process, so their read delays cancel; stamped to 0.01 ms). R routes, one
// at a time.
// tern learns a `proto bird` blackhole inside a pool (Calico IPAM style); BIRD's kernel
// protocol (`learn`) never imports `proto bird` routes (it treats them as its own), so on
// the BIRD side the route is added as `proto static`, which BIRD learns as an alien route
// and exports because it lies inside the pool (calico_export_to_bgp_peers step 8).
// CPU per route on each node: every thread's run time (/proc/PID/task/TID/schedstat, ns, summed) over
// the R routes, less what the same process used per second while idle just before (timers,
// keepalives), divided by R. `profWindowUs` is the loop's start and end on CLOCK_MONOTONIC in
// µs, the clock of V8's --cpu-prof timestamps: with BENCH_CPU_PROF the daemons are stopped
// with SIGTERM (so the profiles are written) and samples can be cut to that window.
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab } from '../lab/netns.js';
import type { ProcHandle } from '../lab/netns.js';
import { calicoYaml, log, percentile, RouteWatch, sleep, spawnTern, startCalicoBird, threadsCpuNs, type Impl } from './lib.js';

const POOL = '10.244.0.0/16';
const A = { name: 'node-a', host: 'a', ip: '10.202.0.1', block: '10.244.1.0/26' };
const B = { name: 'node-b', host: 'b', ip: '10.202.0.2', block: '10.244.2.0/26' };

/** Idle window measured before the routes, for the CPU a node uses anyway. */
const IDLE_MS = 2000;

/** CPU per route in µs on A and B (idle rate subtracted), and the raw figures behind it. */
export interface NodeCpu { perRouteUs: number; loopUs: number; idleUsPerS: number }
export interface LatencyRun {
  impl: Impl; routes: number; p50: number; p90: number; max: number; samples: number[];
  cpu?: { a: NodeCpu; b: NodeCpu }; profWindowUs?: [number, number];
}

const monoUs = () => Number(process.hrtime.bigint() / 1000n);

export async function latencyOnce(impl: Impl, routes: number): Promise<LatencyRun> {
  const lab = createLab(undefined, { area: 'blat' });
  const wa = new RouteWatch(lab, (p) => p.startsWith('10.244.'), true);
  const wb = new RouteWatch(lab, (p) => p.startsWith('10.244.'));
  try {
    await lab.addHost(A.host);
    await lab.addHost(B.host);
    await lab.link(A.host, B.host, { v4: [`${A.ip}/24`, `${B.ip}/24`] });
    const procs: ProcHandle[] = [];
    await wa.add(A.host);
    await wb.add(B.host);
    if (impl === 'tern') {
      const ds = lab.path('ds.yaml');
      writeFileSync(ds, calicoYaml({
        mesh: true, pools: [{ name: 'bench-pool', cidr: POOL }],
        nodes: [A, B].map((n) => ({ name: n.name, ip: n.ip, len: 24 })), blocks: [A, B].map((n) => ({ node: n.name, cidr: n.block })),
      }));
      for (const n of [A, B]) procs.push(spawnTern(lab, n.host, ds, n.name, `${n.ip}/24`));
    } else {
      for (const [n, o] of [[A, B], [B, A]] as const) {
        const bird = await startCalicoBird(lab, n.host, {
          routerId: n.ip, blocks: [n.block], pools: [POOL],
          peers: [{ name: `Mesh_${o.ip.replace(/\./g, '_')}`, address: o.ip, sourceAddress: n.ip, passive: o.ip > n.ip }],
        }, { recovery: true });
        procs.push(bird.proc);
      }
    }
    await wb.until(() => wb.routes.get(B.host)!.has(A.block), 120_000, `${impl}: B has A's block`);
    // past start-up work (GR recovery end, first kernel scans); BENCH_LATENCY_SETTLE_MS=10000
    // also lets V8's memory reducer finish its post-start GCs before the idle window
    await sleep(Number(process.env.BENCH_LATENCY_SETTLE_MS ?? 1000));
    const cpuNow = () => procs.map((p) => threadsCpuNs(p.pid));
    const idle0 = cpuNow();
    const idleT0 = performance.now();
    await sleep(IDLE_MS);
    const loop0 = cpuNow();
    const loopT0 = performance.now();
    const mono0 = monoUs();
    const samples: number[] = [];
    for (let i = 0; i < routes; i++) {
      const p = `10.244.${100 + Math.floor(i / 4)}.${(i % 4) * 64}/26`;
      await lab.ip(A.host, 'route', 'add', 'blackhole', p, 'proto', impl === 'tern' ? 'bird' : 'static');
      await wa.until(() => wa.routes.get(A.host)!.has(p), 10_000, `A has ${p}`);
      await wb.until(() => wb.routes.get(B.host)!.has(p), 30_000, `${impl}: B has ${p}`);
      // both stamps taken when this process read the `ip monitor` line (their delays cancel)
      samples.push(+(wb.routes.get(B.host)!.get(p)! - wa.routes.get(A.host)!.get(p)!).toFixed(2));
      // BENCH_LAT_GAP=MS: a fixed pause between routes (0: the daemons stay warm; docs/benchmarks.md)
      await sleep(process.env.BENCH_LAT_GAP ? Number(process.env.BENCH_LAT_GAP) : 100 + Math.floor(Math.random() * 100));
    }
    const loop1 = cpuNow();
    const loopS = (performance.now() - loopT0) / 1000;
    const idleS = (loopT0 - idleT0) / 1000;
    const node = (i: number): NodeCpu => {
      const idleUsPerS = (loop0[i]! - idle0[i]!) / 1000 / idleS;
      const loopUs = (loop1[i]! - loop0[i]!) / 1000;
      return { perRouteUs: Math.round((loopUs - idleUsPerS * loopS) / routes), loopUs: Math.round(loopUs), idleUsPerS: Math.round(idleUsPerS) };
    };
    const run: LatencyRun = {
      impl, routes, p50: percentile(samples, 50), p90: percentile(samples, 90), max: Math.max(...samples), samples,
      cpu: { a: node(0), b: node(1) }, profWindowUs: [mono0, monoUs()],
    };
    log(`latency ${impl}: p50 ${run.p50} ms, p90 ${run.p90} ms, max ${run.max} ms over ${routes} routes; CPU per route A ${run.cpu!.a.perRouteUs} µs, B ${run.cpu!.b.perRouteUs} µs (idle ${run.cpu!.a.idleUsPerS} / ${run.cpu!.b.idleUsPerS} µs/s); monotonic window ${run.profWindowUs![0]}–${run.profWindowUs![1]} µs`);
    // a profiled daemon writes its profile only when it exits on its own: SIGTERM, and time to write it
    if (process.env.BENCH_CPU_PROF && impl === 'tern') await Promise.all(procs.map((p) => p.kill('SIGTERM', 20_000)));
    return run;
  } finally {
    wa.close();
    wb.close();
    // BENCH_KEEP_LOGS=DIR: both daemons' logs copied there first (e.g. with BENCH_NODE_ARGS=--trace-gc)
    const keep = process.env.BENCH_KEEP_LOGS;
    if (keep) for (const f of readdirSync(lab.dir)) if (f.endsWith('.log')) copyFileSync(join(lab.dir, f), join(keep, `${impl}-${f}`));
    await lab.destroy();
  }
}
