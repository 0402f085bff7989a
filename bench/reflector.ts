// Scenario 4, reflector fan-out: one route reflector (tern, or BIRD 2 as calico-node renders
// it for a node with routeReflectorClusterID: `rr client; rr cluster id`, `add paths on`,
// kernel protocol) and C lightweight iBGP clients (bench/agent/bgp-clients.ts, one address
// each, at most CLIENTS_PER_PROCESS per process). Every client announces its own /26; time
// from reflector start until every client holds every other client's block; reflector CPU
// seconds and RSS, and the clients' CPU seconds (the harness must not be the limit).
//
//   rr 10.210.0.1/16 ──veth── clients 10.210.1.0 … (one address per client)
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createLab, type Lab } from '../lab/netns.js';
import { BENCH_DIR, calicoYaml, childEnv, log, nthAddr, procStats, sleep, spawnTern, startCalicoBird, type Impl } from './lib.js';

const RR_IP = '10.210.0.1';
const FIRST_CLIENT = '10.210.1.0';
const BLOCKS = '10.220.0.0';
const POOL = '10.220.0.0/16';

export interface ReflectorRun {
  impl: Impl; clients: number; ms: number; establishedMs: number | null; cpuS: number; rssKb: number; hwmKb: number;
  /** CPU seconds of all client processes together, and of the busiest one. */
  clientCpuS: number; clientCpuMaxS: number;
}

/**
 * Clients per harness process (BENCH_RR_CLIENTS_PER_PROCESS overrides it). The clients parse
 * C × (C − 1) UPDATEs between them (6.2 M at C = 2 500); see docs/benchmarks.md for what one
 * process for all of them costs.
 */
const CLIENTS_PER_PROCESS = Number(process.env.BENCH_RR_CLIENTS_PER_PROCESS ?? 500);

/** How long a run may take: 300 s, and 0.24 s per client above 1 250 clients. */
export function reflectorTimeoutMs(count: number): number {
  return Math.max(300_000, count * 240);
}

interface ClientProc { child: ChildProcess; est: number; complete: number; cpuMs: number; listening: boolean; doneAt: number; last: string }

/**
 * Permanent ARP entries on the reflector for every client address (and on the clients for
 * the reflector). The kernel's neighbour table is shared by all namespaces and holds 1 024
 * dynamic entries (gc_thresh3): past it, packets to a client without an entry are dropped
 * ("neighbor table overflow") and its session waits in TCP retransmission; at C=2500 that
 * kept ~80 sessions from ever coming up, so no client was ever complete. Permanent entries
 * are exempt from the limit (as for the mesh: `staticNeighbours` in lab/netns.ts).
 */
async function staticNeighbours(lab: Lab, count: number, rrIf: string, clientsIf: string): Promise<void> {
  const mac = async (host: string, dev: string) =>
    /link\/ether ([0-9a-f:]+)/.exec((await lab.exec(host, 'ip', ['link', 'show', 'dev', dev])).stdout)![1]!;
  const clientsMac = await mac('clients', clientsIf);
  const batch = lab.path('neigh.txt');
  writeFileSync(batch, Array.from({ length: count }, (_, i) => `neigh replace ${nthAddr(FIRST_CLIENT, i)} lladdr ${clientsMac} dev ${rrIf} nud permanent\n`).join(''));
  await lab.exec('rr', 'ip', ['-batch', batch]);
  await lab.exec('clients', 'ip', ['neigh', 'replace', RR_IP, 'lladdr', await mac('rr', rrIf), 'dev', clientsIf, 'nud', 'permanent']);
}

export async function reflectorOnce(impl: Impl, count: number): Promise<ReflectorRun> {
  const lab = createLab(undefined, { area: 'brr' });
  try {
    await lab.addHost('rr');
    await lab.addHost('clients');
    const l = await lab.link('rr', 'clients', { v4: [`${RR_IP}/16`, `10.210.0.2/16`] });
    const batch = lab.path('addrs.txt');
    writeFileSync(batch, Array.from({ length: count }, (_, i) => `address add ${nthAddr(FIRST_CLIENT, i)}/16 dev ${l.b.ifName}\n`).join(''));
    await lab.exec('clients', 'ip', ['-batch', batch]);
    await staticNeighbours(lab, count, l.a.ifName, l.b.ifName);
    // clients first: they listen, the reflector connects to each of them
    const nproc = Math.ceil(count / CLIENTS_PER_PROCESS);
    const procs: ClientProc[] = [];
    let doneAt = 0;
    let estAt = 0;
    let t0 = 0;
    let onListening!: () => void;
    let onDone!: () => void;
    let onExit!: (e: Error) => void;
    const listening = new Promise<void>((r) => { onListening = r; });
    const finished = new Promise<void>((res, rej) => { onDone = res; onExit = rej; });
    const sum = (k: 'est' | 'complete') => procs.reduce((a, p) => a + p[k], 0);
    for (let k = 0; k < nproc; k++) {
      const from = Math.round((k * count) / nproc);
      const to = Math.round(((k + 1) * count) / nproc);
      const child = spawn('ip', ['netns', 'exec', lab.ns('clients'), process.execPath, '--import', 'tsx', `${BENCH_DIR}/agent/bgp-clients.ts`,
        RR_IP, String(count), FIRST_CLIENT, BLOCKS, String(from), String(to)], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(), cwd: BENCH_DIR });
      const cp: ClientProc = { child, est: 0, complete: 0, cpuMs: 0, listening: false, doneAt: 0, last: '' };
      procs.push(cp);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const w = line.split(' ');
        if (w[0] === 'status') {
          cp.last = line;
          cp.est = Number(w[2]);
          cp.complete = Number(w[3]);
          cp.cpuMs = Number(w[4]);
          if (t0 && !estAt && sum('est') === count) estAt = Number(w[1]);
        }
        if (w[0] === 'listening') { cp.listening = true; if (procs.length === nproc && procs.every((p) => p.listening)) onListening(); }
        if (w[0] === 'done') {
          cp.doneAt = Number(w[1]);
          if (procs.every((p) => p.doneAt)) { doneAt = Math.max(...procs.map((p) => p.doneAt)); onDone(); }
        }
      });
      child.on('exit', (code) => onExit(new Error(`bgp-clients ${from}–${to} exited ${code}`)));
      child.stderr!.on('data', (d: Buffer) => { if (process.env.BENCH_VERBOSE) process.stderr.write(d); });
    }
    await Promise.race([listening, sleep(60_000)]);
    let pid: number;
    t0 = Date.now();
    if (impl === 'tern') {
      const ds = lab.path('ds.yaml');
      writeFileSync(ds, calicoYaml({
        mesh: false, pools: [{ name: 'bench-pool', cidr: POOL }],
        nodes: [{ name: 'rr', ip: RR_IP, len: 16, rrClusterId: '1.0.0.1' }], blocks: [],
        peers: Array.from({ length: count }, (_, i) => ({ name: `client-${i}`, peerIP: nthAddr(FIRST_CLIENT, i) })),
      }));
      pid = spawnTern(lab, 'rr', ds, 'rr', `${RR_IP}/16`).pid;
    } else {
      pid = (await startCalicoBird(lab, 'rr', {
        routerId: RR_IP, blocks: [], pools: [POOL], rrClusterId: '1.0.0.1',
        peers: Array.from({ length: count }, (_, i) => ({ name: `Global_${nthAddr(FIRST_CLIENT, i).replace(/\./g, '_')}`, address: nthAddr(FIRST_CLIENT, i), rrClient: true })),
      }, { recovery: true })).proc.pid;
    }
    const limit = reflectorTimeoutMs(count);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`reflector ${impl} C=${count}: timed out after ${limit / 1000} s; ${sum('est')} established, `
        + `${sum('complete')} complete, reflector CPU ${procStats(pid).cpuS} s, client CPU ${procs.map((p) => (p.cpuMs / 1000).toFixed(1)).join(' + ')} s`)), limit);
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
      for (const p of procs) { p.child.removeAllListeners('exit'); p.child.kill('SIGTERM'); }
    }
    const st = procStats(pid);
    const clientCpuS = procs.reduce((a, p) => a + p.cpuMs, 0) / 1000;
    const clientCpuMaxS = Math.max(...procs.map((p) => p.cpuMs)) / 1000;
    const run: ReflectorRun = {
      impl, clients: count, ms: doneAt - t0, establishedMs: estAt ? estAt - t0 : null, cpuS: st.cpuS, rssKb: st.rssKb, hwmKb: st.hwmKb,
      clientCpuS, clientCpuMaxS,
    };
    log(`reflector ${impl} C=${count}: ${run.ms} ms (all established at ${run.establishedMs} ms), CPU ${st.cpuS} s, RSS ${st.rssKb} kB, HWM ${st.hwmKb} kB; `
      + `${nproc} client process(es), CPU ${clientCpuS.toFixed(1)} s (busiest ${clientCpuMaxS.toFixed(1)} s)`);
    return run;
  } finally {
    await lab.destroy();
  }
}
