// ACL scenario for `npm run bench -- --only acl` (also runnable alone:
// `node --import tsx bench/acl.ts [realistic|worst]`): the AclCompanion programs `inet tern` in a network
// namespace it creates and removes, for the two workloads of bench/acl-workload.ts
// (realistic: 1 000 policies over 200 local of 1 000 endpoints; worst: 1 000 all() policies).
// Measured from update() to the kernel (apply + read-back done): the first apply, then the
// median of three rounds of one changed rule, a new local pod, a relabelled local pod. Wall
// times depend on the machine's load, so each step also reports CPU time: this process
// (process.cpuUsage, all its threads) and the nft children it waited for (/proc/self/stat
// cutime+cstime, 10 ms ticks). Event-loop blocking is measured two ways while the changes
// run: perf_hooks' delay histogram (wall time, so it includes the OS not running the
// process), and a CPU stall probe: a 1 ms timer reads the main thread's own run time
// (/proc/self/task/PID/schedstat, ns); the longest main-thread CPU stretch between two ticks
// is what ACL work held the loop for, whatever the load. No BIRD counterpart: the targets are
// absolute (≤ 0.5 s, ≤ 0.5 s, ≤ 0.2 s, worst ≤ 2 s, stall ≤ 20 ms).
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AclCompanion } from '../src/acl/companion.js';
import { NftCommand } from '../src/acl/nft.js';
import { buildSnapshot } from '../src/datastore/snapshot.js';
import type { Snapshot } from '../src/model/types.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';

import { NODE, workload } from './acl-workload.js';

export interface AclRun {
  workload: string;
  policies: number;
  endpoints: number;
  rules: number;
  chains: number;
  firstMs: number;
  changeMs: number;
  newPodMs: number;
  relabelMs: number;
  /** Synchronous update() (model + render) for the changed rule, ms. */
  updateSyncMs: number;
  /** Longest event-loop delay seen while the changes ran (all rounds), ms; includes the OS scheduling the process out. */
  maxStallMs: number;
  /** 99th percentile of the event-loop delay, ms. */
  p99StallMs: number;
  /** Longest main-thread CPU stretch between two 1 ms probe ticks, ms (independent of load). */
  cpuStallMs: number;
  /** The same during the first (full) apply and during one drift check (resync), ms. */
  firstCpuStallMs: number;
  resyncCpuStallMs: number;
  /** CPU of one drift check, ms. */
  resyncCpu: { self: number; nft: number };
  /** Median CPU per step, ms: this process (all threads) and its nft children. */
  cpu: Record<'change' | 'newPod' | 'relabel', { self: number; nft: number }>;
  load: number[];
}

/** CPU of this process and of the children it waited for, ms. */
function cpuNow(): { self: number; nft: number } {
  const u = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { self: (u.user + u.system) / 1000, nft: ((Number(f[13]) + Number(f[14])) * 1000) / 100 };
}

/** Main-thread CPU between 1 ms timer ticks: the longest stretch the loop was held by CPU work. */
function cpuStallProbe(): { stop(): number } {
  const path = `/proc/self/task/${process.pid}/schedstat`;
  const run = (): number => Number(readFileSync(path, 'utf8').split(' ')[0]) / 1e6;
  let last = run();
  let max = 0;
  const timer = setInterval(() => {
    const now = run();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  // The stretch since the last tick counts too (work just before stop() has had no tick after it).
  return { stop: () => { clearInterval(timer); return Math.max(max, run() - last); } };
}

async function timed(c: AclCompanion, snap: Snapshot): Promise<{ ms: number; syncMs: number; cpu: { self: number; nft: number } }> {
  const c0 = cpuNow();
  const t0 = performance.now();
  c.update(snap);
  const syncMs = performance.now() - t0;
  await c.idle();
  const ms = performance.now() - t0;
  const c1 = cpuNow();
  if (c.status().lastError) throw new Error(`apply failed: ${c.status().lastError}`);
  return { ms, syncMs, cpu: { self: c1.self - c0.self, nft: c1.nft - c0.nft } };
}

export async function aclOnce(kind: 'realistic' | 'worst'): Promise<AclRun> {
  const ns = `tn-bench-acl-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const c = new AclCompanion({ nodeName: NODE, logger: silentLogger(), clock: systemClock, resyncMs: 3_600_000, nft: new NftCommand({ netns: ns }) });
  try {
    c.start();
    let rev = 1;
    const snap = (extra: Parameters<typeof workload>[1] = {}): Snapshot => buildSnapshot(workload(kind, extra), rev++);
    const s0 = snap();
    const firstProbe = cpuStallProbe();
    const first = await timed(c, s0);
    const firstStall = firstProbe.stop();
    // Snapshots are built before measuring: building them is the datastore's work, not ACL's.
    // Three rounds of change → new pod → relabel → back to the start; medians are reported.
    type Step = Awaited<ReturnType<typeof timed>>;
    const rounds: { change: Step; pod: Step; relabel: Step }[] = [];
    // One histogram per round: an IntervalHistogram enabled again after disable() records
    // the whole gap since it was disabled as one delay (Node 20), which is not a stall.
    let maxDelayNs = 0;
    let p99DelayNs = 0;
    let cpuStall = 0;
    for (let round = 0; round < 3; round++) {
      const s1 = snap({ changedPort: 9990 + round });
      const s2 = snap({ changedPort: 9990 + round, newPod: true });
      const s3 = snap({ changedPort: 9990 + round, newPod: true, relabel: true });
      const back = snap();
      await new Promise((r) => setTimeout(r, 200));
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const probe = cpuStallProbe();
      const change = await timed(c, s1);
      const pod = await timed(c, s2);
      const relabel = await timed(c, s3);
      cpuStall = Math.max(cpuStall, probe.stop());
      h.disable();
      maxDelayNs = Math.max(maxDelayNs, h.max);
      p99DelayNs = Math.max(p99DelayNs, h.percentile(99));
      await timed(c, back);
      rounds.push({ change, pod, relabel });
    }
    const median = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
    const change = { ms: median(rounds.map((r) => r.change.ms)), syncMs: median(rounds.map((r) => r.change.syncMs)) };
    const pod = { ms: median(rounds.map((r) => r.pod.ms)) };
    const relabel = { ms: median(rounds.map((r) => r.relabel.ms)) };
    // The periodic drift check (every 10 s by default): the whole table listed and compared.
    const resyncProbe = cpuStallProbe();
    const r0 = cpuNow();
    const drift = await c.resyncNow();
    const r1 = cpuNow();
    const resyncStall = resyncProbe.stop();
    if (drift !== null) throw new Error(`unexpected drift: ${drift}`);
    const cpuOf = (k: 'change' | 'pod' | 'relabel'): { self: number; nft: number } => ({ self: median(rounds.map((r) => r[k].cpu.self)), nft: median(rounds.map((r) => r[k].cpu.nft)) });
    const listing = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'tern'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const chains = (listing.match(/^\tchain /gm) ?? []).length;
    const rules = listing.split('\n').filter((l) => /^\t\t/.test(l) && !/^\t\t(type |comment |flags |elements |policy )/.test(l)).length;
    return {
      workload: kind, policies: 1000, endpoints: 200, rules, chains,
      firstMs: Math.round(first.ms), changeMs: Math.round(change.ms), newPodMs: Math.round(pod.ms), relabelMs: Math.round(relabel.ms),
      updateSyncMs: Math.round(change.syncMs), maxStallMs: Math.round(maxDelayNs / 1e6), p99StallMs: Math.round(p99DelayNs / 1e6),
      cpuStallMs: +cpuStall.toFixed(1), firstCpuStallMs: +firstStall.toFixed(1), resyncCpuStallMs: +resyncStall.toFixed(1),
      resyncCpu: { self: Math.round(r1.self - r0.self), nft: Math.round(r1.nft - r0.nft) }, cpu: { change: cpuOf('change'), newPod: cpuOf('pod'), relabel: cpuOf('relabel') }, load: loadavg().map((x) => +x.toFixed(2)),
    };
  } finally {
    await c.stop();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

/**
 * aclOnce in a fresh Node.js process started with the young-generation setting
 * `tern daemon --acl` runs with (src/runtime/v8-flags.ts holdYoungGeneration): the stall
 * figures are then the daemon's, not those of the bench harness's heap after the other
 * scenarios (a grown young generation makes each scavenge on the main thread longer).
 */
export async function aclInChild(kind: 'realistic' | 'worst'): Promise<AclRun> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--semi-space-growth-factor=1', '--import', 'tsx', fileURLToPath(import.meta.url), kind], { maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as AclRun;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void (async () => {
    const only = process.argv[2];
    for (const kind of ['realistic', 'worst'] as const) {
      if (only && only !== kind) continue;
      const r = await aclOnce(kind);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    }
  })();
}
