// Memory sampler (and optional CPU profiler) preloaded into a tern daemon by the bench (BENCH_MEM_SAMPLE=FILE, see
// bench/lib.ts spawnTern): every BENCH_MEM_SAMPLE_MS (default 100) one JSON line with
// process.memoryUsage() and V8's new/old space committed; with BENCH_MEM_SMAPS=1
// /proc/self/smaps_rollup's Anonymous, with BENCH_MEM_MALLOC=1 glibc's mallinfo2() (it walks every free list: seconds of CPU over a
// 1 M ingest, so off by default). Runs only inside a bench; nothing of it is in tern itself.
'use strict';
const { appendFileSync, readFileSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');
const file = process.env.BENCH_MEM_SAMPLE;
if (file && process.argv.includes('daemon')) {
  let mallinfo = null;
  if (process.env.BENCH_MEM_MALLOC) try {
    const { dirname, join } = require('node:path');
    const root = dirname(require.resolve('koffi', { paths: [process.cwd()] }));
    const koffi = require(join(root, 'build', 'koffi', `linux_${process.arch}`, 'koffi.node'));
    koffi.struct('mallinfo2_t', {
      arena: 'size_t', ordblks: 'size_t', smblks: 'size_t', hblks: 'size_t', hblkhd: 'size_t', usmblks: 'size_t',
      fsmblks: 'size_t', uordblks: 'size_t', fordblks: 'size_t', keepcost: 'size_t',
    });
    mallinfo = koffi.load('libc.so.6').func('mallinfo2_t mallinfo2()');
  } catch (e) { appendFileSync(file, JSON.stringify({ error: String(e) }) + '\n'); }
  const t0 = Date.now();
  const smaps = !!process.env.BENCH_MEM_SMAPS; // smaps_rollup walks the page tables: ~1 s of CPU per 1 M ingest at 2 Hz
  const mib = (n) => Math.round((n / 1048576) * 10) / 10;
  const sample = () => {
    const m = process.memoryUsage();
    const s = {};
    for (const x of getHeapSpaceStatistics()) s[x.space_name.replace('_space', '')] = mib(x.space_size);
    const roll = smaps ? readFileSync('/proc/self/smaps_rollup', 'utf8') : '';
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(roll)?.[1] ?? 0) / 1024;
    const c = process.cpuUsage();
    const row = {
      t: Date.now() - t0, cpu: Math.round((c.user + c.system) / 1000), sys: Math.round(c.system / 1000), rss: mib(m.rss),
      heapUsed: mib(m.heapUsed), heapTotal: mib(m.heapTotal), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers),
      new: s.new, old: s.old, lo: s.large_object, code: s.code,
    };
    if (smaps) row.anon = Math.round(kb('Anonymous'));
    if (mallinfo) { const i = mallinfo(); row.mArena = mib(Number(i.arena)); row.mMmap = mib(Number(i.hblkhd)); row.mUsed = mib(Number(i.uordblks)); row.mFree = mib(Number(i.fordblks)); }
    appendFileSync(file, JSON.stringify(row) + '\n');
  };
  setInterval(sample, Number(process.env.BENCH_MEM_SAMPLE_MS ?? 100)).unref();
}
// BENCH_PROF_FILE=FILE with BENCH_PROF_MS=N: a V8 CPU profile of the daemon's first N ms
// (the lab ends the daemon with SIGKILL, so --cpu-prof would write nothing).
const prof = process.env.BENCH_PROF_FILE;
if (prof && process.argv.includes('daemon')) {
  const { Session } = require('node:inspector');
  const { writeFileSync } = require('node:fs');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 1000 }, () => session.post('Profiler.start')));
  setTimeout(() => session.post('Profiler.stop', (err, res) => { if (!err) writeFileSync(prof, JSON.stringify(res.profile)); }), Number(process.env.BENCH_PROF_MS ?? 30000)).unref();
}
