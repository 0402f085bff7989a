// Start-up A/B of tern builds, one daemon at a time: `node --import tsx bench/start-ab.ts N
// DIR...` where each DIR holds a build (bin/, dist/, node_modules; e.g. a copy of a worktree
// after `npm run build`). Each build's daemon is started N times, the builds interleaved, in
// one namespace of a fresh lab, alone (no peers: node-0 of a K-node mesh datastore, K from
// START_AB_K, default 50, so the first snapshot is the bench's K=50 file) with --no-fib;
// the daemon's own start-up marks (control method `startup`) give CPU per phase, medians
// printed per build. A build without a code cache first runs a daemon for 12 s to write it.
// START_AB_PROF=DIR: each start under --cpu-prof (50 µs), profiles in DIR/<build name>/.
// CPU, not wall time: on a shared machine only interleaved CPU figures compare (docs/benchmarks.md).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { createLab } from '../lab/netns.js';
import { callDaemon } from '../src/api/control.js';
import { calicoYaml, childEnv, REPO, sleep } from './lib.js';

type Marks = { codeCache?: string; memory?: { rssKb: number; heapSpacesKb: Record<string, number> }; marks: Record<string, { cpuMs: number }> };

const n = Number(process.argv[2]);
const builds = process.argv.slice(3);
if (!(n > 0) || builds.length === 0) throw new Error('usage: bench/start-ab.ts N BUILD_DIR...');
const k = Number(process.env.START_AB_K ?? 50);
const lab = createLab(undefined, { area: 'bstart' });
try {
  await lab.addHost('solo');
  await lab.ip('solo', 'link', 'set', 'lo', 'up');
  const nodes = Array.from({ length: k }, (_, i) => ({ name: `node-${i}`, ip: `10.230.0.${11 + i}`, len: 16 }));
  const ds = lab.path('ds.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(ds, calicoYaml({ mesh: true, pools: [{ name: 'p', cidr: '10.244.0.0/16' }], nodes, blocks: nodes.flatMap((nd, i) => [0, 1, 2].map((b) => ({ node: nd.name, cidr: `10.244.${i}.${b * 64}/26` }))) }));
  const start = (b: string, sock: string, prof: boolean) => lab.spawn('solo', process.execPath, [
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${process.env.START_AB_PROF}/${basename(b)}`, '--cpu-prof-interval=50'] : []),
    `${b}/bin/tern`, 'daemon', '--datastore', `file:${ds}`, '--node', 'node-0', '--ip', '10.230.0.11/16', '--socket', sock, '--log-level', 'warn', '--no-fib',
  ], { env: childEnv(), cwd: REPO, logFile: lab.path('daemon.log') });
  for (const b of builds) {
    if (existsSync(`${b}/dist/bundle/main.cjs.cache`)) continue;
    const h = start(b, lab.path('warm.sock'), false);
    await sleep(12_000);
    await h.kill('SIGKILL');
  }
  const res = new Map<string, Record<string, number | string>[]>();
  for (let r = 0; r < n; r++) {
    for (const b of builds) {
      const sock = lab.path(`s${r}.sock`);
      const h = start(b, sock, !!process.env.START_AB_PROF);
      let m: Marks | null = null;
      for (let i = 0; i < 200 && !m?.marks.started; i++) { await sleep(50); m = await callDaemon<Marks>(sock, 'startup').catch(() => null); }
      await h.kill(process.env.START_AB_PROF ? 'SIGTERM' : 'SIGKILL'); // SIGTERM: --cpu-prof writes at exit
      if (!m?.marks.started) continue;
      const c = (x: string) => m!.marks[x]!.cpuMs;
      const row: Record<string, number | string> = {
        cache: m.codeCache ?? 'none', code: c('code'), modules: +(c('modules') - c('code')).toFixed(1),
        snapshot: +(c('snapshot') - c('modules')).toFixed(1), toStarted: +(c('started') - c('snapshot')).toFixed(1), started: c('started'),
      };
      if (m.memory) Object.assign(row, { rssKb: m.memory.rssKb, newKb: m.memory.heapSpacesKb.new_space ?? 0, oldKb: m.memory.heapSpacesKb.old_space ?? 0, largeKb: m.memory.heapSpacesKb.large_object_space ?? 0 });
      res.set(b, [...(res.get(b) ?? []), row]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [b, rows] of res) {
    const out: Record<string, unknown> = { build: b, starts: rows.length, cache: [...new Set(rows.map((x) => x.cache))].join(',') };
    for (const key of Object.keys(rows[0]!)) if (key !== 'cache') out[key] = median(rows.map((x) => Number(x[key])));
    console.log(JSON.stringify(out));
  }
} finally {
  await lab.destroy();
}
