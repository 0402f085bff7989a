// One ingest for tern alone (no BIRD), for A/B of tern builds:
// `node --expose-gc --import tsx bench/ingest-once.ts N`; BENCH_TERN_BIN as for `npm run bench`.
// Prints the run (time, RSS and peak RSS 1 s after the last route, CPU).
import { ingestOnce } from './ingest.js';

const n = Number(process.argv[2] ?? 100_000);
const r = await ingestOnce('tern', n);
console.log(JSON.stringify({ n, ms: r.ms, rssKb: r.rssKb, hwmKb: r.hwmKb, cpuS: r.cpuS }));
