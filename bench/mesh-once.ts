// One cold start of a tern mesh, tern only: `node --import tsx bench/mesh-once.ts K [BLOCKS]`,
// the build from BENCH_TERN_BIN (bench/lib.ts). Prints the MeshRun (bench/mesh.ts) as one
// JSON line: convergence time, CPU / RSS per node, start-up marks. For A/B runs of builds.
import { meshOnce } from './mesh.js';
import { TERN_BIN } from './lib.js';

const k = Number(process.argv[2] ?? 20);
const blocks = Number(process.argv[3] ?? 3);
const r = await meshOnce('tern', k, blocks, false);
console.log(JSON.stringify({ bin: TERN_BIN, ...r }));
