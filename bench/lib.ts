// Shared measurement helpers for `npm run bench`: process CPU/RSS from /proc, the kernel
// route counter agent (bench/agent/kcount.mjs), `ip monitor` route watchers, BIRD 2 as
// calico-node runs it, and Calico YAML for tern.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
// The netns Lab, the BIRD process, the bird.cfg renderer and the child environment are lab/'s,
// the module the tests import too.
import type { Lab, ProcHandle } from '../lab/netns.js';
import { spawnBird, type BirdProcess } from '../lab/bird.js';
import { calicoBirdConfig as renderCalicoBird, type CalicoBirdOptions as LabBirdOptions } from '../lab/calico-bird.js';
import { childEnv } from '../lab/process.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(BENCH_DIR, '..');
/** BENCH_TERN_BIN: run another build of tern (e.g. a patched copy, for an experiment). */
export const TERN_BIN = process.env.BENCH_TERN_BIN ?? resolve(REPO, 'bin', 'tern');
export const AS = 64512;
export type Impl = 'tern' | 'bird';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Busy share of all CPUs over `ms` (from /proc/stat: everything but idle and iowait). */
export async function busyShare(ms: number): Promise<number> {
  const read = () => {
    const stat = readFileSync('/proc/stat', 'utf8'); // first line: "cpu  user nice system idle iowait …"
    const f = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + f[4]!;
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

/**
 * Waits until the machine is quiet before a measured run: two 500 ms windows in a row with
 * under 10 % of the CPUs busy, at most `maxMs`. Why: the previous scenario's lab teardown
 * leaves kernel work behind (network namespaces are freed by a kernel worker after `ip netns
 * del` returns), and a cold start measured on top of it reads that work as its own. Returns
 * the time waited and the last window's busy share, for the result file.
 */
export async function waitQuiet(maxMs = 30_000): Promise<{ waitedMs: number; busy: number }> {
  const t0 = Date.now();
  let quiet = 0;
  let busy = 1;
  while (Date.now() - t0 < maxMs) {
    busy = await busyShare(500);
    quiet = busy < 0.1 ? quiet + 1 : 0;
    if (quiet >= 2) break;
  }
  return { waitedMs: Date.now() - t0, busy: +busy.toFixed(3) };
}

/** a.b.c.d + i*size (a /26 has size 64). */
export function nthPrefix(base: string, i: number, len: number): string {
  const b = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const n = b + i * 2 ** (32 - len);
  return `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${len}`;
}
export function nthAddr(base: string, i: number): string { return nthPrefix(base, i, 32).split('/')[0]!; }

// ---------------------------------------------------------------------------- /proc

/** rssAnonKb: the part of the RSS not backed by files (heap, stacks): what is the process's own, where RssFile (the mapped executable and libraries) is shared by every process of the same binary.
 *  pssKb: the proportional set size (/proc/PID/smaps_rollup): each resident page divided by the number of processes mapping it (the K daemons of a mesh, and every other process of the same executable on the machine), so a shared page counts once over all of them (0 when unreadable). */
export interface ProcStats {
  rssKb: number; rssAnonKb: number; pssKb: number; hwmKb: number; cpuS: number;
  /** Of cpuS: the kernel's share (stime), and the main thread's (the event loop's) alone. */
  sysS: number; mainCpuS: number;
}
const CLK_TCK = 100;
function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
export function procStats(pid: number): ProcStats {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime (fields 14, 15)
    const main = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const m = main.slice(main.lastIndexOf(')') + 2).split(' ');
    const mainCpuS = (Number(m[11]) + Number(m[12])) / CLK_TCK;
    return { rssKb: kb('VmRSS'), rssAnonKb: kb('RssAnon'), pssKb: pssKb(pid), hwmKb: kb('VmHWM'), cpuS, sysS: Number(f[12]) / CLK_TCK, mainCpuS };
  } catch {
    return { rssKb: 0, rssAnonKb: 0, pssKb: 0, hwmKb: 0, cpuS: 0, sysS: 0, mainCpuS: 0 };
  }
}

/** CPU seconds (utime + stime) of each of `pid`'s threads so far, as `name/tid`, in order of creation. */
export function threadsCpuByName(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const t of readdirSync(`/proc/${pid}/task`).sort((a, b) => Number(a) - Number(b))) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        out[`${name}/${t}`] = (Number(f[11]) + Number(f[12])) / CLK_TCK;
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return out;
}

/** CPU time of every thread of `pid` so far, in ns (field 1 of /proc/PID/task/TID/schedstat, summed):
 *  nanosecond resolution, and it counts libuv and koffi worker threads too, where
 *  /proc/PID/stat counts 10 ms ticks. 0 when the process is gone. */
export function threadsCpuNs(pid: number): number {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
    }
  } catch { return 0; }
  return ns;
}

// ---------------------------------------------------------------------------- kcount agent

export interface KcountResult { readyAt: number; firstAt?: number; doneAt?: number; count: number; verify?: number; timedOut: boolean }

/** Starts the counter in `host`'s namespace; resolves once it is ready (initial dump done). */
export async function startKcount(lab: Lab, host: string, target: number, range: string, opts: { absent?: boolean; maxMs?: number } = {}): Promise<{ result: Promise<KcountResult>; readyAt: number; initial: number; proc: ChildProcess }> {
  const args = ['netns', 'exec', lab.ns(host), process.execPath, resolve(BENCH_DIR, 'agent', 'kcount.mjs'), String(target), range, String(opts.maxMs ?? 900_000)];
  if (opts.absent) args.push('--absent');
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const r: KcountResult = { readyAt: 0, count: 0, timedOut: false };
  let onReady!: (v: [number, number]) => void;
  const ready = new Promise<[number, number]>((res) => { onReady = res; });
  const result = new Promise<KcountResult>((res) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const [w, a, b] = line.split(' ');
      if (w === 'ready') { r.readyAt = Number(a); onReady([Number(a), Number(b)]); }
      else if (w === 'first') r.firstAt = Number(a);
      else if (w === 'done') { r.doneAt = Number(a); r.count = Number(b); }
      else if (w === 'timeout') { r.timedOut = true; r.count = Number(b); }
      else if (w === 'verify') r.verify = Number(a);
      else if (w === 'progress') r.count = Number(b);
      else if (w === 'lost') log(`kcount ${host}: netlink events lost (${line})`);
    });
    child.on('exit', () => { onReady([0, 0]); res(r); });
  });
  const [readyAt, initial] = await ready;
  return { result, readyAt, initial, proc: child };
}

// ---------------------------------------------------------------------------- ip monitor

/** Follows `ip -n NS monitor route` in many namespaces and keeps each one's proto-bird IPv4
 *  prefixes (inside `range` by textual prefix match), with the epoch ms of every change. */
export class RouteWatch {
  readonly routes = new Map<string, Map<string, number>>(); // host -> prefix -> since
  private procs: ChildProcess[] = [];
  private waiters: Array<() => void> = [];
  lastChange = 0;

  constructor(private readonly lab: Lab, private readonly match: (prefix: string) => boolean, private readonly anyProto = false) {}

  async add(host: string): Promise<void> {
    const m = new Map<string, number>();
    this.routes.set(host, m);
    const child = spawn('ip', ['-n', this.lab.ns(host), '-4', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.procs.push(child);
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      if (!this.anyProto && !line.includes('proto bird')) return;
      const now = performance.timeOrigin + performance.now(); // sub-millisecond: latency samples are ~1 ms
      const del = line.startsWith('Deleted ');
      const words = (del ? line.slice(8) : line).split(' ');
      const prefix = ['blackhole', 'unreachable', 'prohibit', 'unicast'].includes(words[0]!) ? words[1]! : words[0]!;
      const pfx = prefix.includes('/') ? prefix : `${prefix}/32`;
      if (!this.match(pfx)) return;
      if (del) m.delete(pfx); else if (!m.has(pfx)) m.set(pfx, now);
      this.lastChange = now;
      for (const w of this.waiters.splice(0)) w();
    });
    // seed with what is already there (a fresh namespace has nothing; ip monitor is up first)
    await sleep(30);
    const cur = await this.lab.ip(host, '-4', 'route', 'show', 'proto', 'bird');
    for (const l of cur.split('\n')) {
      const w = l.trim().split(' ');
      const p0 = ['blackhole', 'unreachable', 'prohibit'].includes(w[0]!) ? w[1] : w[0];
      if (p0) { const pfx = p0.includes('/') ? p0 : `${p0}/32`; if (this.match(pfx) && !m.has(pfx)) m.set(pfx, Date.now()); }
    }
  }

  /** Resolves when `pred` holds (checked on every change), or rejects after timeoutMs. */
  async until(pred: () => boolean, timeoutMs: number, what: string): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pred()) return Date.now();
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
      await new Promise<void>((res) => { const t = setTimeout(res, Math.min(left, 500)); this.waiters.push(() => { clearTimeout(t); res(); }); });
    }
  }

  close(): void { for (const p of this.procs) p.kill('SIGKILL'); this.procs = []; }
}

// ---------------------------------------------------------------------------- BIRD (Calico style)

/** bird.cfg as calico-node's confd renders it, local AS and peers' default AS `AS`. */
export type CalicoBirdOptions = Omit<LabBirdOptions, 'asNumber'>;
export function calicoBirdConfig(o: CalicoBirdOptions): string { return renderCalicoBird({ asNumber: AS, ...o }); }

export type BirdProc = BirdProcess;

/** BIRD with calico-node's config; calico-node runs it with `-R`, an injector runs plain. */
export function startCalicoBird(lab: Lab, host: string, o: CalicoBirdOptions, opts: { recovery?: boolean } = {}): Promise<BirdProc> {
  return spawnBird(lab, host, calicoBirdConfig(o), opts);
}

// ---------------------------------------------------------------------------- tern (Calico YAML)

export interface TernCluster {
  pools: Array<{ cidr: string; name: string }>;
  nodes: Array<{ name: string; ip: string; len: number; rrClusterId?: string; labels?: Record<string, string> }>;
  blocks: Array<{ node: string; cidr: string }>;
  peers?: Array<{ name: string; peerIP: string; asNumber?: number; node?: string }>;
  mesh: boolean;
}

export function calicoYaml(c: TernCluster): string {
  const docs = [
    `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: { name: default }\nspec: { asNumber: ${AS}, nodeToNodeMeshEnabled: ${c.mesh}, logSeverityScreen: Warning }`,
    ...c.pools.map((p) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: ${p.name} }\nspec: { cidr: ${p.cidr}, blockSize: 26, ipipMode: Never, vxlanMode: Never, natOutgoing: true }`),
    ...c.nodes.map((n) => `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: { name: ${n.name} }\nspec: { bgp: { ipv4Address: ${n.ip}/${n.len}${n.rrClusterId ? `, routeReflectorClusterID: ${n.rrClusterId}` : ''} } }`),
    ...c.blocks.map((b) => `apiVersion: projectcalico.org/v3\nkind: BlockAffinity\nmetadata: { name: ${b.node}-${b.cidr.replace(/[./]/g, '-')} }\nspec: { node: ${b.node}, cidr: ${b.cidr}, state: confirmed }`),
    ...(c.peers ?? []).map((p) => `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: { name: ${p.name} }\nspec: { peerIP: ${p.peerIP}, asNumber: ${p.asNumber ?? AS}${p.node ? `, node: ${p.node}` : ''} }`),
  ];
  return `${docs.join('\n---\n')}\n`;
}

export { childEnv };

/** Starts bin/tern in `host` (no readiness wait: timing starts at spawn). */
export function spawnTern(lab: Lab, host: string, datastore: string, node: string, ip: string, extra: string[] = []): ProcHandle {
  const args = [TERN_BIN, 'daemon', '--datastore', `file:${datastore}`, '--node', node, '--ip', ip,
    '--socket', lab.path(`${host}-tern.sock`), '--log-level', process.env.BENCH_TERN_LOG ?? 'warn', ...extra];
  // Node refuses --cpu-prof in NODE_OPTIONS: profiling runs `node <flags> bin/tern`.
  // BENCH_CPU_PROF_DIR keeps the profiles after the lab is destroyed (default: inside the lab).
  // BENCH_CPU_PROF_HOSTS=n3,n7: profile only those hosts (the profiler's own cost stays off the others).
  const profiled = process.env.BENCH_CPU_PROF && (!process.env.BENCH_CPU_PROF_HOSTS || process.env.BENCH_CPU_PROF_HOSTS.split(',').includes(host));
  const nodeArgs = profiled ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR ?? lab.path('prof')}`] : [];
  if (profiled && process.env.BENCH_CPU_PROF_INTERVAL) nodeArgs.push(`--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL}`); // µs
  // BENCH_NODE_ARGS: more Node.js flags for every node (e.g. `--perf-basic-prof` for `perf record`).
  if (process.env.BENCH_NODE_ARGS) nodeArgs.push(...process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean));
  // BENCH_MEM_SAMPLE=FILE: memory samples of the daemon, one JSON line each (agent/mem-sampler.cjs)
  if (process.env.BENCH_MEM_SAMPLE) nodeArgs.push('--require', resolve(BENCH_DIR, 'agent', 'mem-sampler.cjs'));
  return lab.spawn(host, process.execPath, [...nodeArgs, ...args], { logFile: lab.path(`${host}-tern.log`), env: childEnv(), cwd: REPO });
}

// ---------------------------------------------------------------------------- stats

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export interface Row { scenario: string; metric: string; tern: number | null; bird: number | null; unit: string; target?: string; note?: string }
