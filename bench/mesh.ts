// Scenario 3, mesh convergence, and scenario 5, churn, on the same lab.
//
// K nodes on one bridge (10.230.0.11…), full iBGP mesh (Calico's node-to-node mesh: the
// higher address is passive), B confirmed /26 blocks each in pool 10.244.0.0/16. tern: one
// shared YAML datastore (Node, IPPool, BlockAffinity resources). BIRD: one bird.cfg per node as
// confd renders it (static blackholes for the blocks, kernel protocol, Mesh_ sessions).
// Mesh: cold start of all K daemons until every node has all K·B blocks in its kernel (own
// blocks as blackholes); CPU seconds and RSS per node.
// Churn: 10 % of the blocks are withdrawn at once (tern: the YAML is rewritten; BIRD: the
// owners' configs are rewritten and `birdc configure` runs on each owner, in parallel), then
// re-announced at once; time until every node's kernel agrees again, for each phase.
import { copyFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab } from '../lab/netns.js';
import { callDaemon } from '../src/api/control.js';
import {
  calicoBirdConfig, calicoYaml, log, percentile, procStats, RouteWatch, spawnTern, startCalicoBird, type BirdProc, type Impl,
} from './lib.js';

const POOL = '10.244.0.0/16';
const nodeIp = (i: number) => `10.230.${Math.floor((11 + i) / 250)}.${(11 + i) % 250}`;
const block = (i: number, b: number) => `10.244.${i}.${b * 64}/26`;

export interface MeshRun {
  impl: Impl; nodes: number; blocks: number; ms: number;
  cpuS: { avg: number; max: number; total: number }; rssKb: { avg: number; max: number };
  /** RssAnon (/proc/PID/status) per node: the RSS without the mapped executable and libraries. */
  rssAnonKb: { avg: number; max: number };
  /** Proportional set size per node (/proc/PID/smaps_rollup), read while all K run: shared pages (the executable, libraries, page cache) count 1/K each. */
  pssKb: { avg: number; max: number };
  /** tern: how the nodes found the V8 code cache (src/runtime/launch.ts): status → number of nodes. */
  codeCache?: Record<string, number>;
  /** tern: average over nodes of each start-up mark (src/util/startup.ts): wall ms since process start, CPU ms. */
  startup?: Record<string, { ms: number; cpuMs: number }>;
  /** CPU per node per second of idle mesh (3 s after convergence + 1 s, before churn), average over nodes (schedstat). */
  idleCpuMsPerS?: number;
  churn?: {
    withdrawn: number; withdrawMs: number | null; reannounceMs: number | null; error?: string;
    /** tern: per node, the longest UPDATE read → kernel write issued in the phase (ms; null: no write). */
    updateToKernel?: { withdraw: (number | null)[]; reannounce: (number | null)[] };
    /** CPU used per node during each phase (start to convergence + 1 s), average over nodes; from schedstat (ns). */
    cpuMsPerNode?: { withdraw: number; reannounce: number };
    /** The same split by node kind: owners of a withdrawn block, the others. */
    cpuMsByKind?: { owners: { withdraw: number; reannounce: number }; others: { withdraw: number; reannounce: number } };
    /** Phase windows on the monotonic clock (µs, as V8's CPU profiles stamp samples) and the owners' PIDs. */
    windowsUs?: { withdraw: [number, number]; reannounce: [number, number] }; ownerPids?: number[];
  };
}

type FibTimings = { updateToKernel: { count: number; maxMs: number; lastMs: number[] } } | null;

/** Each tern node's UPDATE → kernel samples (count so far, to cut out one phase). */
async function fibTimings(lab: Lab, nodes: Node[]): Promise<{ count: number; lastMs: number[] }[]> {
  return Promise.all(nodes.map(async (n) => {
    const t = await callDaemon<FibTimings>(lab.path(`${n.host}-tern.sock`), 'fibTimings').catch(() => null);
    return t ? t.updateToKernel : { count: 0, lastMs: [] };
  }));
}

/** Per node: the largest sample taken after `before` (null when the node wrote nothing). */
function phaseMax(before: { count: number }[], after: { count: number; lastMs: number[] }[]): (number | null)[] {
  return after.map((a, i) => {
    const n = Math.min(a.count - before[i]!.count, a.lastMs.length);
    return n > 0 ? Math.max(...a.lastMs.slice(-n)) : null;
  });
}

export function summarise(xs: (number | null)[]): { p50: number; max: number } | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? { p50: +percentile(v, 50).toFixed(2), max: +Math.max(...v).toFixed(2) } : null;
}

/**
 * CPU seconds of a process, all its threads, to the nanosecond: the sum of each thread's
 * run time in /proc/PID/task/TID/schedstat (the scheduler's own accounting, not /proc's
 * 10 ms ticks); the tick-based figure when schedstat is missing.
 */
function cpuExactS(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* the thread ended */ }
    }
    return ns / 1e9;
  } catch {
    return procStats(pid).cpuS;
  }
}

interface Node { i: number; name: string; host: string; ip: string; blocks: string[]; pid: number; bird?: BirdProc }

function birdOpts(nodes: Node[], n: Node, blocks: string[]) {
  return {
    routerId: n.ip, blocks, pools: [POOL],
    peers: nodes.filter((p) => p !== n).map((p) => ({
      name: `Mesh_${p.ip.replace(/\./g, '_')}`, address: p.ip, sourceAddress: n.ip, passive: p.ip > n.ip, // string comparison, as confd
    })),
  };
}

function ternYaml(nodes: Node[], drop: Set<string>): string {
  return calicoYaml({
    mesh: true, pools: [{ name: 'bench-pool', cidr: POOL }],
    nodes: nodes.map((n) => ({ name: n.name, ip: n.ip, len: 16 })),
    blocks: nodes.flatMap((n) => n.blocks.filter((b) => !drop.has(b)).map((cidr) => ({ node: n.name, cidr }))),
  });
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export async function meshOnce(impl: Impl, k: number, blocksPerNode: number, churn: boolean): Promise<MeshRun> {
  const lab: Lab = createLab(undefined, { area: 'bmesh' });
  const watch = new RouteWatch(lab, (p) => p.startsWith('10.244.'));
  try {
    // Static neighbours: the kernel's ARP table is shared by every namespace and holds 1024
    // dynamic entries (gc_thresh3); a K=50 mesh needs 2 450, and without them sessions stall
    // in TCP retransmission (docs/benchmarks.md, "5. Churn").
    await lab.bridge('fabric', { staticNeighbours: true });
    const nodes: Node[] = [];
    for (let i = 0; i < k; i++) {
      const n: Node = { i, name: `node-${i}`, host: `n${i}`, ip: nodeIp(i), blocks: Array.from({ length: blocksPerNode }, (_, b) => block(i, b)), pid: 0 };
      await lab.addHost(n.host);
      await lab.attach(n.host, 'fabric', { v4: `${n.ip}/16`, ifName: 'eth0' });
      await watch.add(n.host);
      nodes.push(n);
    }
    const all = nodes.flatMap((n) => n.blocks);
    const ds = lab.path('ds.yaml');
    if (impl === 'tern') writeAtomic(ds, ternYaml(nodes, new Set()));
    const t0 = Date.now();
    for (const n of nodes) {
      if (impl === 'tern') n.pid = spawnTern(lab, n.host, ds, n.name, `${n.ip}/16`).pid;
      else { n.bird = await startCalicoBird(lab, n.host, birdOpts(nodes, n, n.blocks), { recovery: true }); n.pid = n.bird.proc.pid; }
    }
    const hasAll = (want: readonly string[], absent: readonly string[] = []) => () => nodes.every((n) => {
      const m = watch.routes.get(n.host)!;
      return want.every((b) => m.has(b)) && absent.every((b) => !m.has(b));
    });
    const tDone = await watch.until(hasAll(all), 300_000, `${impl} mesh K=${k}: every node has every block`);
    await new Promise((r) => setTimeout(r, 1000));
    const st = nodes.map((n) => procStats(n.pid));
    // BENCH_THREADS: each node's CPU split by thread (the main thread, then the others in the
    // order they were created: V8's worker threads, libuv's pool), summed over the nodes
    if (process.env.BENCH_THREADS) {
      const by = new Map<string, number>();
      for (const n of nodes) for (const [rank, t] of readdirSync(`/proc/${n.pid}/task`).sort((a, b) => Number(a) - Number(b)).entries()) {
        const thread = rank === 0 ? 'main' : `thread ${rank}`;
        const ns = Number(readFileSync(`/proc/${n.pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
        by.set(thread, (by.get(thread) ?? 0) + ns);
      }
      log(`mesh ${impl} K=${k}: CPU ms per node by thread ${JSON.stringify([...by].map(([c, ns]) => [c, +(ns / 1e6 / k).toFixed(1)]))}`);
    }
    const cpu = st.map((s) => s.cpuS);
    const rss = st.map((s) => s.rssKb);
    const anon = st.map((s) => s.rssAnonKb);
    const pss = st.map((s) => s.pssKb);
    const run: MeshRun = {
      impl, nodes: k, blocks: all.length, ms: tDone - t0,
      cpuS: { avg: +(cpu.reduce((a, b) => a + b, 0) / k).toFixed(2), max: Math.max(...cpu), total: +cpu.reduce((a, b) => a + b, 0).toFixed(2) },
      rssKb: { avg: Math.round(rss.reduce((a, b) => a + b, 0) / k), max: Math.max(...rss) },
      rssAnonKb: { avg: Math.round(anon.reduce((a, b) => a + b, 0) / k), max: Math.max(...anon) },
      pssKb: { avg: Math.round(pss.reduce((a, b) => a + b, 0) / k), max: Math.max(...pss) },
    };
    if (impl === 'tern') {
      type Marks = { nodeBootMs: number; codeCache?: string; marks: Record<string, { ms: number; cpuMs: number }> };
      const got = (await Promise.all(nodes.map((n) => callDaemon<Marks>(lab.path(`${n.host}-tern.sock`), 'startup').catch(() => null))))
        .filter((m): m is Marks => m !== null);
      const avg: Record<string, { ms: number; cpuMs: number }> = {};
      const names = ['nodeBoot', 'code', 'modules', 'snapshot', 'firstSession', 'started'];
      for (const name of names) {
        const xs = got.map((g) => (name === 'nodeBoot' ? { ms: g.nodeBootMs, cpuMs: NaN } : g.marks[name])).filter((x): x is { ms: number; cpuMs: number } => !!x);
        if (xs.length) avg[name] = { ms: +(xs.reduce((a, x) => a + x.ms, 0) / xs.length).toFixed(1), cpuMs: +(xs.reduce((a, x) => a + x.cpuMs, 0) / xs.length).toFixed(1) };
      }
      run.startup = avg;
      run.codeCache = {};
      for (const g of got) run.codeCache[g.codeCache ?? 'none'] = (run.codeCache[g.codeCache ?? 'none'] ?? 0) + 1;
      log(`mesh tern K=${k} code cache at start (status: nodes): ${JSON.stringify(run.codeCache)}`);
      log(`mesh tern K=${k} start-up, average per node (wall ms since process start / CPU ms): ${JSON.stringify(avg)}`);
    }
    log(`mesh ${impl} K=${k}: ${run.ms} ms, CPU/node avg ${run.cpuS.avg} s max ${run.cpuS.max} s, RSS/node avg ${run.rssKb.avg} kB max ${run.rssKb.max} kB, of which anonymous avg ${run.rssAnonKb.avg} kB; PSS/node avg ${run.pssKb.avg} kB`);

    const cpuNow = () => nodes.map((n) => cpuExactS(n.pid));
    const sumS = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    {
      const i0 = cpuNow();
      await new Promise((r) => setTimeout(r, 3000));
      run.idleCpuMsPerS = +((sumS(cpuNow()) - sumS(i0)) * 1000 / 3 / k).toFixed(2);
      log(`mesh ${impl} K=${k}: idle CPU per node ${run.idleCpuMsPerS} ms/s`);
    }
    if (churn) {
      try {
      const drop = all.filter((_, j) => j % 10 === 0);
      const dropSet = new Set(drop);
      const owners = nodes.filter((n) => n.blocks.some((b) => dropSet.has(b)));
      const apply = async (without: Set<string>) => {
        if (impl === 'tern') writeAtomic(ds, ternYaml(nodes, without));
        else {
          await Promise.all(owners.map(async (n) => {
            writeFileSync(n.bird!.configFile, calicoBirdConfig(birdOpts(nodes, n, n.blocks.filter((b) => !without.has(b)))));
            await n.bird!.birdc('configure');
          }));
        }
      };
      const keep = all.filter((b) => !dropSet.has(b));
      const t0s = impl === 'tern' ? await fibTimings(lab, nodes) : [];
      const avgMs = (a: number[], b: number[], only?: (i: number) => boolean) => {
        const idx = nodes.map((_, i) => i).filter((i) => !only || only(i));
        return +(idx.reduce((x, i) => x + b[i]! - a[i]!, 0) * 1000 / Math.max(1, idx.length)).toFixed(1);
      };
      const mono = () => Number(process.hrtime.bigint() / 1000n);
      const c0 = cpuNow();
      const m0 = mono();
      let t1 = Date.now();
      await apply(dropSet);
      const tW = await watch.until(hasAll(keep, drop), 300_000, `${impl} churn: ${drop.length} blocks withdrawn everywhere`);
      const withdrawMs = tW - t1;
      await new Promise((r) => setTimeout(r, 1000));
      // the withdraw phase ends here; the control-socket read of the timings belongs to
      // neither phase, so the re-announce phase starts after it
      const c1w = cpuNow();
      const m1w = mono();
      const t1s = impl === 'tern' ? await fibTimings(lab, nodes) : [];
      const c1 = cpuNow();
      const m1 = mono();
      t1 = Date.now();
      await apply(new Set());
      const tA = await watch.until(hasAll(all), 300_000, `${impl} churn: ${drop.length} blocks back everywhere`);
      run.churn = { withdrawn: drop.length, withdrawMs, reannounceMs: tA - t1 };
      await new Promise((r) => setTimeout(r, 1000));
      const c2 = cpuNow();
      const m2 = mono();
      run.churn.cpuMsPerNode = { withdraw: avgMs(c0, c1w), reannounce: avgMs(c1, c2) };
      const isOwner = (i: number) => owners.includes(nodes[i]!);
      run.churn.cpuMsByKind = {
        owners: { withdraw: avgMs(c0, c1w, isOwner), reannounce: avgMs(c1, c2, isOwner) },
        others: { withdraw: avgMs(c0, c1w, (i) => !isOwner(i)), reannounce: avgMs(c1, c2, (i) => !isOwner(i)) },
      };
      run.churn.windowsUs = { withdraw: [m0, m1w], reannounce: [m1, m2] };
      run.churn.ownerPids = owners.map((n) => n.pid);
      if (impl === 'tern') {
        const t2s = await fibTimings(lab, nodes);
        run.churn.updateToKernel = { withdraw: phaseMax(t0s, t1s), reannounce: phaseMax(t1s, t2s) };
      }
      const u = run.churn.updateToKernel;
      log(`churn ${impl} K=${k}: ${drop.length} blocks withdrawn in ${withdrawMs} ms, re-announced in ${run.churn.reannounceMs} ms; CPU per node ${JSON.stringify(run.churn.cpuMsPerNode)} ms (${JSON.stringify(run.churn.cpuMsByKind)})`
        + (u ? `; per node UPDATE → kernel write, worst of each phase: withdraw ${JSON.stringify(summarise(u.withdraw))}, re-announce ${JSON.stringify(summarise(u.reannounce))} ms` : ''));
      // BENCH_CHURN_REPEAT=N: N more cycles after the first, each logged (what a warm process pays)
      for (let rep = 0; rep < Number(process.env.BENCH_CHURN_REPEAT ?? 0); rep++) {
        await new Promise((r) => setTimeout(r, 2000));
        const a0 = cpuNow(); const s0 = Date.now(); const w0 = mono();
        await apply(dropSet);
        const w = (await watch.until(hasAll(keep, drop), 300_000, 'repeat withdraw')) - s0;
        await new Promise((r) => setTimeout(r, 1000));
        const a1 = cpuNow(); const s1 = Date.now(); const w1 = mono();
        await apply(new Set());
        const ra = (await watch.until(hasAll(all), 300_000, 'repeat re-announce')) - s1;
        await new Promise((r) => setTimeout(r, 1000));
        const a2 = cpuNow(); const w2 = mono();
        log(`churn ${impl} K=${k} repeat ${rep + 1}: withdraw ${w} ms, re-announce ${ra} ms; CPU per node ${avgMs(a0, a1)} / ${avgMs(a1, a2)} ms; others ${avgMs(a0, a1, (i) => !isOwner(i))} / ${avgMs(a1, a2, (i) => !isOwner(i))} ms; windows us ${w0} ${w1} ${w2}; owners ${owners.map((n) => n.pid).join(',')}`);
      }
      } catch (e) {
        // a convergence failure is a result too: keep the mesh figures and say what failed
        const lost = nodes.map((n) => `${n.host}:${[...watch.routes.get(n.host)!.keys()].filter((b) => b.startsWith('10.244.') && all.filter((_, j) => j % 10 === 0).includes(b)).length}`);
        run.churn = { withdrawn: Math.ceil(all.length / 10), withdrawMs: null, reannounceMs: null, error: `${e instanceof Error ? e.message : String(e)}; withdrawn blocks still present per node: ${lost.join(' ')}` };
        log(`churn ${impl} K=${k} FAILED: ${run.churn.error}`);
      }
    }
    // BENCH_HOLD_MS: keep the lab a while after the run (to look at idle nodes from outside).
    if (process.env.BENCH_HOLD_MS) { log(`holding the lab ${process.env.BENCH_HOLD_MS} ms; node PIDs ${nodes.map((n) => n.pid).join(' ')}`); await new Promise((r) => setTimeout(r, Number(process.env.BENCH_HOLD_MS))); }
    return run;
  } finally {
    watch.close();
    // BENCH_KEEP_LOGS=DIR: every node's log copied there first (with BENCH_TERN_LOG=debug: connects, refusals, state changes)
    const keep = process.env.BENCH_KEEP_LOGS;
    if (keep) for (const f of readdirSync(lab.dir)) if (f.endsWith('.log')) copyFileSync(join(lab.dir, f), join(keep, f));
    await lab.destroy();
  }
}
