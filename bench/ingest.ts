// Scenario 1, ingest: a BIRD injector announces N /26 routes to the receiver (tern, or BIRD 2
// configured as calico-node configures it); time from receiver start until all N are in the
// receiver's kernel table, the receiver's RSS and CPU, and the raw kernel floor (the same N
// routes written straight through rtnetlink, and with `ip -batch`).
//
//   inj  10.201.0.2 ──veth── 10.201.0.1  recv
//   BIRD, N static blackholes in 16.0.0.0/4, passive; the receiver connects (iBGP, AS 64512).
import { readFileSync, writeFileSync } from 'node:fs';
import { createLab, type Lab } from '../lab/netns.js';
import {
  AS, BENCH_DIR, calicoBirdConfig, calicoYaml, childEnv, log, nthPrefix, procStats, sleep, spawnTern,
  startCalicoBird, startKcount, threadsCpuByName, type Impl,
} from './lib.js';

const BASE = '16.0.0.0';
const RANGE = '16.0.0.0/4';
const RECV_IP = '10.201.0.1';
const INJ_IP = '10.201.0.2';

export interface IngestRun {
  impl: Impl; n: number; ms: number; firstRouteMs: number | null; rssKb: number; hwmKb: number; cpuS: number; verified: number | null;
  /** Of cpuS: the kernel's share (system time), and the main thread's (the event loop's: the critical path when a core is free). */
  sysS: number; mainCpuS: number;
}

async function lab2(): Promise<{ lab: Lab; dev: string }> {
  const lab = createLab(undefined, { area: 'bingest' });
  await lab.addHost('recv');
  await lab.addHost('inj');
  const l = await lab.link('recv', 'inj', { v4: [`${RECV_IP}/24`, `${INJ_IP}/24`] });
  return { lab, dev: l.a.ifName };
}

async function startInjector(lab: Lab, n: number): Promise<void> {
  const blocks = Array.from({ length: n }, (_, i) => nthPrefix(BASE, i, 26));
  const cfg = calicoBirdConfig({
    routerId: INJ_IP, blocks: [], pools: [], kernel: false, injector: true,
    peers: [{ name: 'Receiver', address: RECV_IP, passive: true }],
  }).replace('protocol bgp', `protocol static { ipv4;\n${blocks.map((b) => `  route ${b} blackhole;`).join('\n')}\n}\nprotocol bgp`);
  const config = lab.path('inj-bird.conf');
  writeFileSync(config, cfg);
  const socket = lab.path('inj-bird.ctl');
  const proc = lab.spawn('inj', 'bird', ['-f', '-c', config, '-s', socket], { logFile: lab.path('inj-bird.log') });
  // ready when the static protocol holds all N routes
  await lab.waitFor(async () => {
    if (!proc.running()) throw new Error(`injector BIRD exited: ${proc.log().slice(-500)}`);
    const out = (await lab.exec('inj', 'birdc', ['-s', socket, 'show', 'route', 'count'], { allowFail: true })).stdout;
    const m = /(\d+) of (\d+) routes/.exec(out);
    return m && Number(m[2]) >= n;
  }, { what: `injector loaded ${n} routes`, timeoutMs: 300_000, intervalMs: 500 });
}

/** Sets net.core.rmem_max to at least `bytes`; returns the function that puts the old value back. */
function raiseRmemMax(bytes: number): () => void {
  const path = '/proc/sys/net/core/rmem_max';
  const old = readFileSync(path, 'utf8').trim();
  if (Number(old) >= bytes) return () => undefined;
  writeFileSync(path, String(bytes));
  return () => writeFileSync(path, old);
}

export async function ingestOnce(impl: Impl, n: number): Promise<IngestRun> {
  const { lab } = await lab2();
  let restoreRmem = (): void => undefined;
  try {
    await startInjector(lab, n);
    // The route counter's notification socket asks for 32 MiB, which the kernel caps at
    // net.core.rmem_max (4 MiB here): at 1 M routes BIRD's burst overran it and the counter
    // died with its netlink library. The cap is raised for the run and restored after it;
    // tern (SO_RCVBUFFORCE) and BIRD (kernel default buffer) do not read it.
    restoreRmem = raiseRmemMax(64 << 20);
    const kc = await startKcount(lab, 'recv', n, RANGE, { maxMs: n >= 1_000_000 ? 900_000 : 300_000 });
    let pid: number;
    const t0 = Date.now();
    if (impl === 'tern') {
      const ds = lab.path('ds.yaml');
      writeFileSync(ds, calicoYaml({
        mesh: false, pools: [{ name: 'bench-pool', cidr: RANGE }], nodes: [{ name: 'recv', ip: RECV_IP, len: 24 }], blocks: [],
        peers: [{ name: 'injector', peerIP: INJ_IP, asNumber: AS }],
      }));
      const metrics = process.env.BENCH_METRICS ? ['--metrics-listen', '127.0.0.1:9464'] : [];
      pid = spawnTern(lab, 'recv', ds, 'recv', `${RECV_IP}/24`, metrics).pid;
    } else {
      pid = (await startCalicoBird(lab, 'recv', {
        routerId: RECV_IP, blocks: [], pools: [RANGE], peers: [{ name: 'Global_10_201_0_2', address: INJ_IP }],
      }, { recovery: true })).proc.pid;
    }
    const r = await kc.result;
    if (!r.doneAt) throw new Error(`${impl} ingest ${n}: only ${r.count} routes in the kernel`);
    await sleep(1000); // let the receiver settle (RSS after the load, not mid-GC)
    const st = procStats(pid);
    // BENCH_HOLD_MS: keep the lab (and the daemon) that long after the reading, for a look at its memory
    if (process.env.BENCH_HOLD_MS) { log(`holding the lab ${process.env.BENCH_HOLD_MS} ms; receiver PID ${pid}`); await sleep(Number(process.env.BENCH_HOLD_MS)); }
    if (process.env.BENCH_THREADS) log(`ingest ${impl} n=${n}: CPU by thread ${JSON.stringify(threadsCpuByName(pid))}`);
    if (impl === 'tern' && process.env.BENCH_METRICS) {
      // BENCH_METRICS=1: where the memory is (V8 heap spaces, external buffers), for docs/benchmarks.md
      const m = (await lab.exec('recv', 'curl', ['-s', 'http://127.0.0.1:9464/metrics'], { allowFail: true })).stdout;
      log(m.split('\n').filter((l) => /^nodejs_(heap_size|heap_space_size_(used|total)|external_memory)|^process_resident/.test(l)).join('\n'));
    }
    const run: IngestRun = {
      impl, n, ms: r.doneAt - t0, firstRouteMs: r.firstAt ? r.firstAt - t0 : null,
      rssKb: st.rssKb, hwmKb: st.hwmKb, cpuS: st.cpuS, verified: r.verify ?? null, sysS: st.sysS, mainCpuS: st.mainCpuS,
    };
    log(`ingest ${impl} n=${n}: ${run.ms} ms (first route at ${run.firstRouteMs} ms), RSS ${st.rssKb} kB, HWM ${st.hwmKb} kB, CPU ${st.cpuS} s (system ${st.sysS} s; main thread ${st.mainCpuS} s)`);
    return run;
  } finally {
    restoreRmem();
    await lab.destroy();
  }
}

export interface FloorRun { n: number; netlinkMs: number; ipBatchMs: number }

export async function kernelFloor(n: number): Promise<FloorRun> {
  const { lab, dev } = await lab2();
  try {
    const out = await lab.exec('recv', process.execPath, ['--import', 'tsx', `${BENCH_DIR}/agent/floor.ts`, String(n), BASE, INJ_IP, dev],
      { timeoutMs: 600_000, env: childEnv() });
    const netlinkMs = Math.round((JSON.parse(out.stdout.trim().split('\n').pop()!) as { ms: number }).ms);
    await lab.ip('recv', 'route', 'flush', 'proto', 'bird');
    const batch = lab.path('batch.txt');
    writeFileSync(batch, Array.from({ length: n }, (_, i) => `route add ${nthPrefix(BASE, i, 26)} via ${INJ_IP} dev ${dev} proto bird\n`).join(''));
    const t0 = Date.now();
    await lab.exec('recv', 'ip', ['-batch', batch], { timeoutMs: 600_000 });
    const ipBatchMs = Date.now() - t0;
    log(`kernel floor n=${n}: netlink pipelined ${netlinkMs} ms, ip -batch ${ipBatchMs} ms`);
    return { n, netlinkMs, ipBatchMs };
  } finally {
    await lab.destroy();
  }
}

export interface IngestResult {
  n: number;
  runs: IngestRun[];
  floor: FloorRun;
  /** (RSS at N − RSS at N/10) / (0.9 N), bytes per route. */
  bytesPerRoute: Record<Impl, number>;
}

export async function ingest(n: number): Promise<IngestResult> {
  const runs: IngestRun[] = [];
  const floor = await kernelFloor(n);
  for (const impl of ['tern', 'bird'] as const) {
    runs.push(await ingestOnce(impl, Math.round(n / 10)));
    runs.push(await ingestOnce(impl, n));
  }
  const bpr = (impl: Impl) => {
    const small = runs.find((r) => r.impl === impl && r.n < n)!;
    const big = runs.find((r) => r.impl === impl && r.n === n)!;
    return Math.round(((big.rssKb - small.rssKb) * 1024) / (big.n - small.n));
  };
  return { n, runs, floor, bytesPerRoute: { tern: bpr('tern'), bird: bpr('bird') } };
}
