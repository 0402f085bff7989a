// One node's start in a running mesh: `node --import tsx bench/start-restart.ts K R`. A K-node
// tern mesh (the bench's layout, 3 blocks per node) converges; then node K/2 is killed
// (SIGKILL), its kernel routes flushed, and started again alone, R times: its CPU to
// convergence + 1 s (/proc and the daemon's own `startup` reply), its start-up marks, RSS,
// anonymous RSS and PSS, and its V8 heap spaces, one JSON line per start. Unlike the cold
// mesh, the other K-1 daemons are idle, so the CPU figures are that of one start with K-1
// sessions, not of 2 cores shared by K starting daemons. The build: BENCH_TERN_BIN (bench/lib.ts).
// PROBE_PROF=DIR: the restarted daemon under --cpu-prof (interval PROBE_IV µs, default 200),
// stopped with SIGTERM after each measurement so the profile is written. PROBE_EXP=VALUE:
// passed to the restarted daemon as TERN_EXP (for experiments in a patched build).
// PROBE_BINS=A/bin/tern,B/bin/tern: the restarted daemon runs these builds in turn (the mesh
// runs BENCH_TERN_BIN), so the builds' starts are interleaved in one mesh; a build's first
// start (which may write its code cache) is left out of the medians printed per build at the end.
// An entry PATH@LEVEL runs that build at that log level (default warn, as the bench's mesh), so
// `PROBE_BINS=B/bin/tern,B/bin/tern@info` compares the cost of Calico's default level.
// PROBE_NODE_ARGS: more Node.js flags for the restarted daemon (e.g. `--perf-basic-prof`).
// PROBE_PERF=DIR: `perf record -g` attached to each restarted daemon from its spawn until its
// measurement ends (10 kHz, DIR/rN.data; with PROBE_NODE_ARGS=--perf-basic-prof, JS frames are named).
// PROBE_LOGS=DIR: each restarted daemon's output copied to DIR/rN.log after its measurement.
// PROBE_ATTACH='CMD ... {pid} ... {r}': any such tool (stopped with SIGINT), e.g.
// `strace -f -c -o DIR/r{r}.txt -p {pid}`.
import { createLab } from '../lab/netns.js';
import { callDaemon } from '../src/api/control.js';
import { calicoYaml, procStats, RouteWatch, spawnTern, TERN_BIN, childEnv, REPO, percentile } from './lib.js';
import { copyFileSync, writeFileSync } from 'node:fs';
import { spawn as cpSpawn } from 'node:child_process';
const k = Number(process.argv[2] ?? 20);
const reps = Number(process.argv[3] ?? 3);
const prof = process.env.PROBE_PROF; // dir
const bins = process.env.PROBE_BINS ? process.env.PROBE_BINS.split(',') : [TERN_BIN];
const perBin = new Map<string, { cpu: number[]; afterFirst: number[]; firstSession: number[]; anon: number[] }>();
const nodeIp = (i: number) => `10.230.0.${11 + i}`;
const lab = createLab(undefined, { area: 'bprobe' });
const watch = new RouteWatch(lab, (p) => p.startsWith('10.244.'));
try {
  await lab.bridge('fabric', { staticNeighbours: true });
  const nodes = [] as { host: string; name: string; ip: string; pid: number }[];
  for (let i = 0; i < k; i++) {
    const n = { host: `n${i}`, name: `node-${i}`, ip: nodeIp(i), pid: 0 };
    await lab.addHost(n.host); await lab.attach(n.host, 'fabric', { v4: `${n.ip}/16`, ifName: 'eth0' }); await watch.add(n.host); nodes.push(n);
  }
  const blocks = nodes.flatMap((n, i) => [0, 1, 2].map((b) => ({ node: n.name, cidr: `10.244.${i}.${b * 64}/26` })));
  const ds = lab.path('ds.yaml');
  writeFileSync(ds, calicoYaml({ mesh: true, pools: [{ name: 'p', cidr: '10.244.0.0/16' }], nodes: nodes.map((n) => ({ name: n.name, ip: n.ip, len: 16 })), blocks }));
  for (const n of nodes) n.pid = spawnTern(lab, n.host, ds, n.name, `${n.ip}/16`).pid;
  const all = blocks.map((b) => b.cidr);
  const hasAll = (hosts: string[]) => () => hosts.every((h) => all.every((b) => watch.routes.get(h)!.has(b)));
  await watch.until(hasAll(nodes.map((n) => n.host)), 300_000, 'mesh');
  const target = nodes[Math.floor(k / 2)]!;
  for (let r = 0; r < reps * bins.length; r++) {
    const entry = bins[r % bins.length]!;
    const [bin, level = 'warn'] = entry.split('@') as [string, string?];
    process.kill(target.pid, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 300));
    await lab.ip(target.host, 'route', 'flush', 'proto', 'bird');
    await new Promise((res) => setTimeout(res, 700));
    const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-interval=${process.env.PROBE_IV ?? 200}`] : [];
    if (process.env.PROBE_NODE_ARGS) nodeArgs.push(...process.env.PROBE_NODE_ARGS.split(' ').filter(Boolean));
    const h = lab.spawn(target.host, process.execPath, [...nodeArgs, bin, 'daemon', '--datastore', `file:${ds}`, '--node', target.name, '--ip', `${target.ip}/16`, '--socket', lab.path(`${target.host}-tern.sock`), '--log-level', level], { logFile: lab.path(`r${r}.log`), env: childEnv(process.env.PROBE_EXP ? { TERN_EXP: process.env.PROBE_EXP } : {}), cwd: REPO });
    target.pid = h.pid;
    const attach = process.env.PROBE_PERF ? `perf record -g -q -F 10000 -o ${process.env.PROBE_PERF}/r{r}.data -p {pid}` : process.env.PROBE_ATTACH;
    const perf = attach ? cpSpawn('sh', ['-c', `exec ${attach.replaceAll('{r}', String(r)).replaceAll('{pid}', String(h.pid))}`], { stdio: 'ignore' }) : null;
    const t0 = Date.now();
    await watch.until(hasAll([target.host]), 60_000, 'restart');
    const ms = Date.now() - t0;
    await new Promise((res) => setTimeout(res, 1000));
    const st = procStats(h.pid);
    if (perf) { perf.kill('SIGINT'); await new Promise((res) => perf.once('exit', res)); }
    if (process.env.PROBE_LOGS) copyFileSync(lab.path(`r${r}.log`), `${process.env.PROBE_LOGS}/r${r}.log`);
    const m = await callDaemon<any>(lab.path(`${target.host}-tern.sock`), 'startup');
    const marks = Object.fromEntries(Object.entries(m.marks as Record<string, { cpuMs: number }>).map(([k, v]) => [k, v.cpuMs]));
    if (r >= bins.length) {
      const b = perBin.get(entry) ?? { cpu: [], afterFirst: [], firstSession: [], anon: [] };
      perBin.set(entry, b);
      b.cpu.push(m.cpuMs); b.afterFirst.push(m.cpuMs - (marks.firstSession ?? NaN)); b.firstSession.push(marks.firstSession ?? NaN); b.anon.push(st.rssAnonKb / 1024);
    }
    console.log(JSON.stringify({ bin: entry, k, r, ms, cpuMs: Math.round(st.cpuS * 1000), sysMs: Math.round(st.sysS * 1000), selfCpuMs: m.cpuMs, mem: m.memory, rssMiB: +(st.rssKb / 1024).toFixed(1), anonMiB: +(st.rssAnonKb / 1024).toFixed(1), pssMiB: +(st.pssKb / 1024).toFixed(1), cc: m.codeCache, marks }));
    if (prof) { await h.kill('SIGTERM', 5000); const n2 = lab.spawn(target.host, process.execPath, [TERN_BIN, 'daemon', '--datastore', `file:${ds}`, '--node', target.name, '--ip', `${target.ip}/16`, '--socket', lab.path(`${target.host}-tern.sock`), '--log-level', 'warn'], { env: childEnv(), cwd: REPO }); target.pid = n2.pid; await watch.until(hasAll([target.host]), 60_000, 'back'); }
  }
  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  for (const [bin, b] of perBin) {
    const med = (xs: number[]) => percentile(xs, 50).toFixed(1);
    console.log(`median of ${b.cpu.length} (load ${load} at the end) ${bin}: CPU to convergence + 1 s ${med(b.cpu)} ms, after the first session ${med(b.afterFirst)} ms, first session mark ${med(b.firstSession)} ms, anonymous RSS ${med(b.anon)} MiB`);
  }
} finally {
  watch.close();
  await lab.destroy();
}
