// Scenario 4, reflector fan-out: one route reflector (tern, or BIRD 2 as calico-node renders
// it for a node with routeReflectorClusterID: `rr client; rr cluster id`, `add paths on`,
// kernel protocol) and C lightweight iBGP clients (bench/agent/bgp-clients.ts, one process,
// one address each). Every client announces its own /26; time from reflector start until
// every client holds every other client's block; reflector CPU seconds and RSS.
//
//   rr 10.210.0.1/16 ──veth── clients 10.210.1.0 … (one address per client)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createLab } from '../lab/netns.js';
import { BENCH_DIR, calicoYaml, childEnv, log, nthAddr, procStats, sleep, spawnTern, startCalicoBird, type Impl } from './lib.js';

const RR_IP = '10.210.0.1';
const FIRST_CLIENT = '10.210.1.0';
const BLOCKS = '10.220.0.0';
const POOL = '10.220.0.0/16';

export interface ReflectorRun { impl: Impl; clients: number; ms: number; establishedMs: number | null; cpuS: number; rssKb: number; hwmKb: number }

export async function reflectorOnce(impl: Impl, count: number): Promise<ReflectorRun> {
  const lab = createLab(undefined, { area: 'brr' });
  try {
    await lab.addHost('rr');
    await lab.addHost('clients');
    const l = await lab.link('rr', 'clients', { v4: [`${RR_IP}/16`, `10.210.0.2/16`] });
    const batch = lab.path('addrs.txt');
    writeFileSync(batch, Array.from({ length: count }, (_, i) => `address add ${nthAddr(FIRST_CLIENT, i)}/16 dev ${l.b.ifName}\n`).join(''));
    await lab.exec('clients', 'ip', ['-batch', batch]);
    // clients first: they listen, the reflector connects to each of them
    const child = spawn('ip', ['netns', 'exec', lab.ns('clients'), process.execPath, '--import', 'tsx', `${BENCH_DIR}/agent/bgp-clients.ts`,
      RR_IP, String(count), FIRST_CLIENT, BLOCKS], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(), cwd: BENCH_DIR });
    let doneAt = 0;
    let estAt = 0;
    let last = '';
    let t0 = 0;
    let onListening!: () => void;
    const listening = new Promise<void>((r) => { onListening = r; });
    const finished = new Promise<void>((res, rej) => {
      const rl = createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        const w = line.split(' ');
        if (w[0] === 'status') { last = line; if (t0 && !estAt && Number(w[2]) === count) estAt = Number(w[1]); }
        if (w[0] === 'listening') onListening();
        if (w[0] === 'done') { doneAt = Number(w[1]); res(); }
      });
      child.on('exit', (code) => rej(new Error(`bgp-clients exited ${code}`)));
    });
    child.stderr!.on('data', (d: Buffer) => { if (process.env.BENCH_VERBOSE) process.stderr.write(d); });
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
    const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`reflector ${impl} C=${count}: timed out; last ${last}`)), 300_000));
    await Promise.race([finished, timeout]);
    const st = procStats(pid);
    child.kill('SIGTERM');
    const run: ReflectorRun = { impl, clients: count, ms: doneAt - t0, establishedMs: estAt ? estAt - t0 : null, cpuS: st.cpuS, rssKb: st.rssKb, hwmKb: st.hwmKb };
    log(`reflector ${impl} C=${count}: ${run.ms} ms (all established at ${run.establishedMs} ms), CPU ${st.cpuS} s, RSS ${st.rssKb} kB, HWM ${st.hwmKb} kB`);
    return run;
  } finally {
    await lab.destroy();
  }
}
