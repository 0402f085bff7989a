// Churn for tern alone (no BIRD run), for profiling and A/B of tern builds:
// `node --import tsx bench/churn-only.ts K [OUT.json]`; BENCH_TERN_BIN and BENCH_CPU_PROF* as
// for `npm run bench`. Prints and writes the mesh run (idle CPU, churn CPU per node by kind,
// phase windows on the monotonic clock for cutting CPU profiles).
import { writeFileSync } from 'node:fs';
import { meshOnce } from './mesh.js';

const k = Number(process.argv[2] ?? 20);
const r = await meshOnce('tern', k, 3, true);
const out = JSON.stringify(r, null, 1);
if (process.argv[3]) writeFileSync(process.argv[3], out);
console.log(JSON.stringify({ ms: r.ms, idleCpuMsPerS: r.idleCpuMsPerS, churn: { ...r.churn, updateToKernel: undefined } }));
