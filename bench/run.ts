// `npm run bench [-- --quick] [-- --only ingest,latency,mesh,churn,reflector,acl] [-- --million]
// [-- --mesh 20,50] [-- --clients 200,1000]`:
// runs every scenario for tern and for BIRD 2 (configured as calico-node configures it), one
// after the other in the same run, prints a comparison table and writes
// bench/results/<timestamp>.json. Must run as root (network namespaces).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import Table from 'cli-table3';
import { ingest, ingestOnce, type IngestResult } from './ingest.js';
import { latencyOnce, type LatencyRun } from './latency.js';
import { meshOnce, summarise, type MeshRun } from './mesh.js';
import { reflectorOnce, type ReflectorRun } from './reflector.js';
import { aclInChild, type AclRun } from './acl.js';
import { BENCH_DIR, childEnv, log, waitQuiet, type Row } from './lib.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv[argv.indexOf('--only') + 1];
const only = argv.includes('--only') && onlyArg ? new Set(onlyArg.split(',')) : null;
const want = (s: string) => !only || only.has(s);

const P = quick
  ? { ingestN: 20_000, latencyRoutes: 30, mesh: [10], blocksPerNode: 3, reflector: [100] }
  : { ingestN: 100_000, latencyRoutes: 50, mesh: [20, 50], blocksPerNode: 3, reflector: [200, 1000, 2500] };

// `--mesh 20,50` / `--clients 200` override the node and client counts.
const listArg = (flag: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? '').split(',').map(Number).filter((n) => n > 0) : null);
P.mesh = listArg('--mesh') ?? P.mesh;
P.reflector = listArg('--clients') ?? P.reflector;

const rows: Row[] = [];
const raw: Record<string, unknown> = { quick, params: P };
const ratio = (t: number | null, b: number | null) => (t !== null && b !== null && b > 0 ? t / b : null);

async function step<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  // The harness's own garbage from earlier scenarios is collected now, not by a major GC of a
  // large heap during the measured run (scripts/bench.sh gives --expose-gc); its heap is recorded.
  const heapBefore = process.memoryUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const heapAfter = process.memoryUsage();
  const harness = { rssMiB: +(heapBefore.rss / 2 ** 20).toFixed(1), heapUsedMiB: +(heapBefore.heapUsed / 2 ** 20).toFixed(1), heapUsedAfterGcMiB: +(heapAfter.heapUsed / 2 ** 20).toFixed(1) };
  // every measured run starts on a quiet machine (bench/lib.ts waitQuiet); the wait is recorded
  const q = await waitQuiet();
  (raw.quiet as unknown[] | undefined ?? (raw.quiet = [] as unknown[]) as unknown[]).push({ step: name, ...q, harness });
  if (q.busy >= 0.1) log(`${name}: machine still ${Math.round(q.busy * 100)} % busy after ${q.waitedMs} ms; measuring anyway`);
  try { return await fn(); } catch (e) {
    log(`${name} FAILED: ${e instanceof Error ? e.message : String(e)}`);
    (raw.errors as string[] | undefined ?? (raw.errors = [] as string[]) as string[]).push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root (network namespaces)');
  raw.machine = { cpus: cpus().length, model: cpus()[0]?.model, memGiB: +(totalmem() / 2 ** 30).toFixed(1), kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    bird: execFileSync('bird', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'bird 2', node: process.version,
    // lab/process.ts childEnv: the daemons start without it unless TERN_LAB_KEEP_EXTRA_CA_CERTS=1
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? (childEnv().NODE_EXTRA_CA_CERTS ? 'kept for the daemons' : 'set here, removed for the daemons') : 'not set' };
  log(`machine: ${JSON.stringify(raw.machine)}`);
  const started = Date.now();

  if (want('ingest')) {
    const r = await step('ingest', () => ingest(P.ingestN));
    if (r) {
      raw.ingest = r;
      addIngestRows(r);
    }
  }
  if (argv.includes('--million')) {
    {
      const m: Record<string, unknown> = {};
      for (const impl of ['tern', 'bird'] as const) m[impl] = await step(`ingest 1M ${impl}`, () => ingestOnce(impl, 1_000_000));
      raw.ingestMillion = m;
      type Run = { n: number; ms: number; rssKb: number; hwmKb: number; cpuS: number };
      const t = m.tern as Run | undefined;
      const b = m.bird as Run | undefined;
      rows.push({ scenario: 'ingest 1M', metric: 'time to kernel', tern: t?.ms ?? null, bird: b?.ms ?? null, unit: 'ms', target: '≤ 1.0× BIRD' });
      rows.push({ scenario: 'ingest 1M', metric: 'RSS', tern: t ? Math.round(t.rssKb / 1024) : null, bird: b ? Math.round(b.rssKb / 1024) : null, unit: 'MiB' });
      rows.push({ scenario: 'ingest 1M', metric: 'peak RSS (VmHWM)', tern: t ? Math.round(t.hwmKb / 1024) : null, bird: b ? Math.round(b.hwmKb / 1024) : null, unit: 'MiB', target: '≤ 300 MiB' });
      rows.push({ scenario: 'ingest 1M', metric: 'CPU', tern: t?.cpuS ?? null, bird: b?.cpuS ?? null, unit: 's' });
      // RSS growth from the 100 k run of this bench (when it ran) to 1 M, per route
      const perRoute = (impl: 'tern' | 'bird', big: Run | undefined) => {
        const small = (raw.ingest as IngestResult | undefined)?.runs.find((r) => r.impl === impl && r.n === P.ingestN);
        return big && small ? Math.round(((big.rssKb - small.rssKb) * 1024) / (big.n - small.n)) : null;
      };
      rows.push({ scenario: 'ingest 1M', metric: `RSS growth ${P.ingestN / 1000} k → 1 M`, tern: perRoute('tern', t), bird: perRoute('bird', b), unit: 'B/route', target: '≤ 200 B/route' });
    }
  }
  if (want('latency')) {
    const runs: LatencyRun[] = [];
    for (const impl of ['tern', 'bird'] as const) { const r = await step(`latency ${impl}`, () => latencyOnce(impl, P.latencyRoutes)); if (r) runs.push(r); }
    raw.latency = runs;
    const t = runs.find((r) => r.impl === 'tern');
    const b = runs.find((r) => r.impl === 'bird');
    for (const k of ['p50', 'p90', 'max'] as const) {
      rows.push({ scenario: `latency (${P.latencyRoutes} routes)`, metric: k, tern: t?.[k] ?? null, bird: b?.[k] ?? null, unit: 'ms', ...(k === 'p50' ? { target: '≤ BIRD and ≤ 50 ms' } : {}) });
    }
    for (const n of ['a', 'b'] as const) {
      rows.push({ scenario: `latency (${P.latencyRoutes} routes)`, metric: `CPU per route, node ${n.toUpperCase()}`, tern: t?.cpu?.[n].perRouteUs ?? null, bird: b?.cpu?.[n].perRouteUs ?? null, unit: 'µs' });
    }
  }
  if (want('reflector')) {
    const all: ReflectorRun[] = [];
    for (const c of P.reflector) {
      const runs: ReflectorRun[] = [];
      for (const impl of ['tern', 'bird'] as const) { const r = await step(`reflector ${impl} C=${c}`, () => reflectorOnce(impl, c)); if (r) runs.push(r); }
      all.push(...runs);
      const t = runs.find((r) => r.impl === 'tern');
      const b = runs.find((r) => r.impl === 'bird');
      rows.push({ scenario: `reflector C=${c}`, metric: 'fan-out time', tern: t?.ms ?? null, bird: b?.ms ?? null, unit: 'ms', target: '≤ 1.0× BIRD' });
      rows.push({ scenario: `reflector C=${c}`, metric: 'all Established', tern: t?.establishedMs ?? null, bird: b?.establishedMs ?? null, unit: 'ms' });
      rows.push({ scenario: `reflector C=${c}`, metric: 'RR CPU', tern: t?.cpuS ?? null, bird: b?.cpuS ?? null, unit: 's' });
      rows.push({ scenario: `reflector C=${c}`, metric: 'RR RSS', tern: t ? Math.round(t.rssKb / 1024) : null, bird: b ? Math.round(b.rssKb / 1024) : null, unit: 'MiB' });
      rows.push({ scenario: `reflector C=${c}`, metric: 'client harness CPU (all processes)', tern: t?.clientCpuS ?? null, bird: b?.clientCpuS ?? null, unit: 's' });
    }
    raw.reflector = all;
  }
  if (want('mesh') || want('churn')) {
    const all: MeshRun[] = [];
    for (const k of P.mesh) {
      const runs: MeshRun[] = [];
      for (const impl of ['tern', 'bird'] as const) { const r = await step(`mesh ${impl} K=${k}`, () => meshOnce(impl, k, P.blocksPerNode, want('churn'))); if (r) runs.push(r); }
      all.push(...runs);
      const t = runs.find((r) => r.impl === 'tern');
      const b = runs.find((r) => r.impl === 'bird');
      const s = `mesh K=${k} (${k * P.blocksPerNode} blocks)`;
      rows.push({ scenario: s, metric: 'cold-start convergence', tern: t?.ms ?? null, bird: b?.ms ?? null, unit: 'ms', target: '≤ 1.0× BIRD' });
      rows.push({ scenario: s, metric: 'CPU per node (avg)', tern: t?.cpuS.avg ?? null, bird: b?.cpuS.avg ?? null, unit: 's' });
      for (const [mark, label] of [['code', 'Node boot + bundle read'], ['modules', 'modules loaded'], ['snapshot', 'first datastore snapshot'], ['firstSession', 'first session Established']] as const) {
        const m = t?.startup?.[mark];
        rows.push({ scenario: s, metric: `start: ${label}, CPU (avg)`, tern: m ? m.cpuMs : null, bird: null, unit: 'ms' });
        rows.push({ scenario: s, metric: `start: ${label}, wall since spawn (avg)`, tern: m ? m.ms : null, bird: null, unit: 'ms' });
      }
      rows.push({ scenario: s, metric: 'RSS per node (avg)', tern: t ? Math.round(t.rssKb.avg / 1024) : null, bird: b ? +(b.rssKb.avg / 1024).toFixed(1) : null, unit: 'MiB' });
      rows.push({ scenario: s, metric: 'RSS per node: anonymous part (avg)', tern: t ? +(t.rssAnonKb.avg / 1024).toFixed(1) : null, bird: b ? +(b.rssAnonKb.avg / 1024).toFixed(1) : null, unit: 'MiB' });
      rows.push({ scenario: s, metric: 'PSS per node, K sharing the executable (avg)', tern: t?.pssKb ? +(t.pssKb.avg / 1024).toFixed(1) : null, bird: b?.pssKb ? +(b.pssKb.avg / 1024).toFixed(1) : null, unit: 'MiB' });
      if (want('churn')) {
        rows.push({ scenario: `churn K=${k} (${t?.churn?.withdrawn ?? b?.churn?.withdrawn ?? '?'} blocks)`, metric: 'withdraw → all kernels agree', tern: t?.churn?.withdrawMs ?? null, bird: b?.churn?.withdrawMs ?? null, unit: 'ms' });
        rows.push({ scenario: `churn K=${k}`, metric: 're-announce → all kernels agree', tern: t?.churn?.reannounceMs ?? null, bird: b?.churn?.reannounceMs ?? null, unit: 'ms' });
        rows.push({ scenario: `churn K=${k}`, metric: 'withdraw: CPU per node (avg)', tern: t?.churn?.cpuMsPerNode?.withdraw ?? null, bird: b?.churn?.cpuMsPerNode?.withdraw ?? null, unit: 'ms' });
        rows.push({ scenario: `churn K=${k}`, metric: 're-announce: CPU per node (avg)', tern: t?.churn?.cpuMsPerNode?.reannounce ?? null, bird: b?.churn?.cpuMsPerNode?.reannounce ?? null, unit: 'ms' });
        const u = t?.churn?.updateToKernel;
        for (const phase of ['withdraw', 'reannounce'] as const) {
          const v = u ? summarise(u[phase]) : null;
          rows.push({ scenario: `churn K=${k}`, metric: `${phase}: UPDATE → kernel write, median node`, tern: v?.p50 ?? null, bird: null, unit: 'ms' });
          rows.push({ scenario: `churn K=${k}`, metric: `${phase}: UPDATE → kernel write, slowest node`, tern: v?.max ?? null, bird: null, unit: 'ms' });
        }
      }
    }
    raw.mesh = all;
  }
  if (want('acl')) {
    // No BIRD counterpart: the ACL companion has absolute targets (issue: ≤ 0.5 s per change).
    const all: AclRun[] = [];
    for (const kind of ['realistic', 'worst'] as const) {
      const r = await step(`acl ${kind}`, () => aclInChild(kind));
      if (!r) continue;
      all.push(r);
      const s = kind === 'realistic' ? `acl 1000 policies / 200 pods (${r.rules} rules, load ${r.load[0]})` : `acl 1000 all() policies (${r.rules} rules, load ${r.load[0]})`;
      rows.push({ scenario: s, metric: 'changed rule → kernel', tern: r.changeMs, bird: null, unit: 'ms', target: kind === 'realistic' ? '≤ 500 ms' : '≤ 2000 ms' });
      rows.push({ scenario: s, metric: 'new local pod → kernel', tern: r.newPodMs, bird: null, unit: 'ms', target: kind === 'realistic' ? '≤ 500 ms' : '≤ 2000 ms' });
      rows.push({ scenario: s, metric: 'relabel → kernel', tern: r.relabelMs, bird: null, unit: 'ms', target: kind === 'realistic' ? '≤ 200 ms' : '≤ 2000 ms' });
      rows.push({ scenario: s, metric: 'event-loop delay p99', tern: r.p99StallMs, bird: null, unit: 'ms', target: '≤ 20 ms' });
      rows.push({ scenario: s, metric: 'event-loop delay max', tern: r.maxStallMs, bird: null, unit: 'ms', target: '≤ 20 ms' });
      rows.push({ scenario: s, metric: 'main-thread CPU stall max', tern: r.cpuStallMs, bird: null, unit: 'ms', target: '≤ 20 ms' });
      rows.push({ scenario: s, metric: 'CPU stall max, first apply', tern: r.firstCpuStallMs, bird: null, unit: 'ms', target: '≤ 20 ms' });
      rows.push({ scenario: s, metric: 'CPU stall max, drift check', tern: r.resyncCpuStallMs, bird: null, unit: 'ms', target: '≤ 20 ms' });
    }
    raw.acl = all;
  }

  raw.rows = rows;
  raw.elapsedS = Math.round((Date.now() - started) / 1000);
  const dir = `${BENCH_DIR}/results`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`;
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);

  const table = new Table({ head: ['scenario', 'metric', 'tern', 'BIRD 2', 'tern/BIRD', 'target'], style: { head: [], border: [] } });
  const fmt = (v: number | null, unit: string) => (v === null ? '—' : `${Number.isInteger(v) ? v : v.toFixed(2)} ${unit}`);
  for (const r of rows) {
    const q = ratio(r.tern, r.bird);
    table.push([r.scenario, r.metric, fmt(r.tern, r.unit), fmt(r.bird, r.unit), q === null ? '—' : `${q.toFixed(2)}×`, r.target ?? '']);
  }
  process.stdout.write(`\n${table.toString()}\n`);
  process.stdout.write(`results: ${file} (${raw.elapsedS} s)\n`);
  if (raw.errors) process.stdout.write(`errors:\n  ${(raw.errors as string[]).join('\n  ')}\n`);
}

function addIngestRows(r: IngestResult): void {
  const t = r.runs.find((x) => x.impl === 'tern' && x.n === r.n);
  const b = r.runs.find((x) => x.impl === 'bird' && x.n === r.n);
  const s = `ingest N=${r.n}`;
  rows.push({ scenario: s, metric: 'start → all N in kernel', tern: t?.ms ?? null, bird: b?.ms ?? null, unit: 'ms', target: '≤ 1.0× BIRD' });
  rows.push({ scenario: s, metric: 'first route in kernel', tern: t?.firstRouteMs ?? null, bird: b?.firstRouteMs ?? null, unit: 'ms' });
  rows.push({ scenario: s, metric: 'first → last route', tern: t && t.firstRouteMs !== null ? t.ms - t.firstRouteMs : null, bird: b && b.firstRouteMs !== null ? b.ms - b.firstRouteMs : null, unit: 'ms' });
  rows.push({ scenario: s, metric: 'kernel floor (netlink pipelined)', tern: r.floor.netlinkMs, bird: null, unit: 'ms', target: 'tern ≤ 1.5× floor' });
  rows.push({ scenario: s, metric: 'time / floor', tern: t ? +(t.ms / r.floor.netlinkMs).toFixed(2) : null, bird: b ? +(b.ms / r.floor.netlinkMs).toFixed(2) : null, unit: '×' });
  rows.push({ scenario: s, metric: 'kernel floor (ip -batch)', tern: r.floor.ipBatchMs, bird: null, unit: 'ms' });
  rows.push({ scenario: s, metric: 'RSS growth N/10 → N', tern: r.bytesPerRoute.tern, bird: r.bytesPerRoute.bird, unit: 'B/route', target: '≤ 300 B/route' });
  rows.push({ scenario: s, metric: 'RSS at N', tern: t ? Math.round(t.rssKb / 1024) : null, bird: b ? +(b.rssKb / 1024).toFixed(1) : null, unit: 'MiB' });
  rows.push({ scenario: s, metric: 'CPU', tern: t?.cpuS ?? null, bird: b?.cpuS ?? null, unit: 's' });
}

try {
  await main();
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
}
