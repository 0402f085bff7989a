// `npm run fuzz -- --seconds N [--seed S] [--messages M] [--streams K] [--extra] [--keep-going]`: the differential run against
// BIRD 2 (differential.ts) for N seconds. Prints progress, and the seed of any stream whose
// tables differ; exit status 1 on a difference. Needs root (network namespaces) and a build.
import { runDifferential } from './differential.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(arg('seconds') ?? 60);
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
const messages = arg('messages') !== undefined ? Number(arg('messages')) : undefined;
const extra = process.argv.includes('--extra');
const keepGoing = process.argv.includes('--keep-going');
const streams = arg('streams') !== undefined ? Number(arg('streams')) : undefined;
process.stdout.write(`differential run: seed ${seed}, ${seconds} s\n`);
const res = await runDifferential({ seed, seconds, ...(streams !== undefined ? { streams } : {}), ...(messages !== undefined ? { messages } : {}), extra, keepGoing, log: (l) => process.stdout.write(l + '\n') });
for (const f of res.failures) {
  process.stdout.write(`FAIL seed ${f.seed} (run seed ${seed}, stream ${f.stream}, generator ${f.gen}):\n  ${f.diffs.join('\n  ')}\n`);
}
for (const [why, n] of Object.entries(res.explained)) process.stdout.write(`explained (docs/rfc-compliance.md): ${why}: ${n} prefix(es)\n`);
process.stdout.write(`${res.streams} streams in ${res.seconds.toFixed(0)} s, ${res.compared} paths compared, ${res.failures.length} with differences\n`);
process.exit(res.failures.length ? 1 : 0);
