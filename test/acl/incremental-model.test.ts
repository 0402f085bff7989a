// Model test of the ACL companion's incremental path: a random policy snapshot (policy-gen.ts)
// changed by random edit sequences (scenario-edits.ts: endpoints' labels, addresses,
// profiles, nodes and named ports; pods added and removed; policies' order, selector, rules,
// types and tier; tiers; network sets; namespace labels; profiles; the host endpoint; the
// same snapshot sent again), each snapshot fed through the path the companion runs: the
// model built with its kept AclCache, the table rendered with its kept RenderCache (both
// sliced as companion.ts runs them), several builds coalesced before one apply, and the
// transaction diff.ts writes from the last applied table. Unchanged resources come as the
// same frozen objects or as fresh equal copies (a re-read datastore). After every step:
// (1) the incremental model and table equal a model and table built from scratch;
// (2) the transaction, run on a model of the nft table (fixtures/nft-model.ts, with the
//     kernel's reference and overlap checks), leaves exactly the fresh table; it is null
//     (a full replace) exactly when a hook, a chain comment or a set type changed;
// (3) the cache's and the diff's counters agree with what changed between the snapshots.
// TERN_ACLCACHE_SEEDS=a-b (or a list) and TERN_ACLCACHE_STEPS explore further.
import t from 'tap';
import { AclCache } from '../../src/acl/incremental.js';
import { buildModel, buildModelAsync, type AclModel } from '../../src/acl/model.js';
import { RenderCache, renderSteps, renderTable, tableScript, DEFAULT_RENDER, type DesiredTable, type RenderOptions } from '../../src/acl/render.js';
import { incrementalSteps, type DiffStats } from '../../src/acl/diff.js';
import { runStepsAsync } from '../../src/acl/steps.js';
import type { Snapshot } from '../../src/model/types.js';
import { EditDriver } from './fixtures/edit-driver.js';
import { loadTable, runScript, tableText, type ModelTable } from './fixtures/nft-model.js';
import { canon, expectedCacheStats, expectedDiff, firstDiff } from './fixtures/incremental-expect.js';

function seedList(text: string | undefined, fallback: string): number[] {
  return (text ?? fallback).split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}
const SEEDS = seedList(process.env.TERN_ACLCACHE_SEEDS, '1-20');
const STEPS = Number(process.env.TERN_ACLCACHE_STEPS ?? 25);
const NODE = 'n1';
const SLICE_MS = 4;
const RENDER_VARIANTS: readonly RenderOptions[] = [{}, { endpointToHostAction: 'Accept' }, { endpointToHostAction: 'Return', allowIPIPFromWorkloads: true }];

/**
 * The model's comparable content: endpoints, problems, sets and policies. Keys sorted: a kept
 * entity keeps its labels' key order when an equal resource lists them in another.
 */
function modelText(m: AclModel): string {
  const sorted = <V>(x: ReadonlyMap<string, V>): [string, V][] => [...x].sort(([a], [b]) => (a < b ? -1 : 1));
  return canon({ endpoints: m.endpoints, problems: m.problems, sets: sorted(m.sets), named: sorted(m.namedSets), policies: sorted(m.policies), profiles: sorted(m.profiles), heps: m.hostEndpoints });
}

/** The companion's build: model and table from the kept caches, in slices. */
async function companionBuild(s: Snapshot, cache: AclCache, rcache: RenderCache, opts: RenderOptions): Promise<{ model: AclModel; table: DesiredTable }> {
  const model = await buildModelAsync(s, NODE, SLICE_MS, undefined, cache);
  const table = await runStepsAsync(renderSteps(model, { ...DEFAULT_RENDER, ...opts }, rcache), SLICE_MS);
  return { model, table };
}

interface RunResult { steps: number; builds: number; incremental: number; full: number; unchanged: number; chunked: number; failure: string | null }

/** One seed: a random snapshot, then `steps` rounds of 1–3 coalesced builds and one apply. */
async function runSeed(seed: number, steps: number): Promise<RunResult> {
  const opts = RENDER_VARIANTS[seed % RENDER_VARIANTS.length]!;
  const pSame = [0, 0.5, 1][seed % 3]!;
  const drive = new EditDriver(seed, pSame);
  const cache = new AclCache();
  const rcache = new RenderCache();
  const res: RunResult = { steps: 0, builds: 0, incremental: 0, full: 0, unchanged: 0, chunked: 0, failure: null };
  const fail = (why: string): RunResult => ({ ...res, failure: `seed ${seed} (render ${JSON.stringify(opts)}, reuse ${pSame}) ${why}\nedits:\n  ${drive.history.join('\n  ')}` });
  let built: Snapshot | null = null;
  let applied: DesiredTable | null = null;
  let kernel: ModelTable | null = null;
  for (let step = 0; step <= steps; step++) {
    let desired: DesiredTable | null = null;
    for (const [r, s] of drive.step(step).entries()) {
      const want = expectedCacheStats(built, s, NODE);
      const { model, table } = await companionBuild(s, cache, rcache, opts);
      res.builds++;
      const full = buildModel(s, NODE);
      const fullTable = renderTable(full, opts);
      if (modelText(model) !== modelText(full)) return fail(`step ${step}.${r}: the incremental model differs from a full build\n${firstDiff(modelText(model).replace(/,/g, ',\n'), modelText(full).replace(/,/g, ',\n'))}`);
      if (JSON.stringify(table) !== JSON.stringify(fullTable) || tableScript(table) !== tableScript(fullTable)) {
        return fail(`step ${step}.${r}: the incremental table differs from a full render\n${firstDiff(tableScript(table), tableScript(fullTable))}`);
      }
      const bad = want.check(cache.stats);
      if (bad) return fail(`step ${step}.${r}: cache stats ${JSON.stringify(cache.stats)}: ${bad}`);
      built = s;
      desired = table;
    }
    // The apply (nft.ts NftTable.apply): a transaction from the last applied table when possible.
    res.steps++;
    if (desired!.chains.some((c) => /^tern-c[oi]-/.test(c.name))) res.chunked++;
    if (applied === null || kernel === null) {
      kernel = loadTable(desired!);
      applied = desired!;
      res.full++;
      continue;
    }
    const stats: { value?: DiffStats } = {};
    const script = await runStepsAsync(incrementalSteps(applied, desired!, stats), SLICE_MS);
    const exp = expectedDiff(applied, desired!);
    if ((script === null) !== exp.replace) return fail(`step ${step}: the diff ${script === null ? 'asks for a full replace' : 'is incremental'}; expected ${exp.replace ? 'a replace' : 'a transaction'} (${exp.why})`);
    if (script === null) {
      kernel = loadTable(desired!);
      res.full++;
    } else if (script === '') {
      if (!exp.equal) return fail(`step ${step}: an empty transaction for a changed table`);
      res.unchanged++;
    } else {
      if (exp.equal) return fail(`step ${step}: a transaction for an unchanged table:\n${script}`);
      try {
        kernel = runScript(kernel, script, desired!.name);
      } catch (err) {
        return fail(`step ${step}: the kernel would refuse the transaction: ${(err as Error).message}\n${script}`);
      }
      const badStats = stats.value ? exp.check(stats.value) : 'no stats';
      if (badStats) return fail(`step ${step}: diff stats ${JSON.stringify(stats.value)}: ${badStats}`);
      res.incremental++;
    }
    const have = tableText(kernel);
    const want = tableText(loadTable(desired!));
    if (have !== want) return fail(`step ${step}: after the transaction the table differs from the fresh render\n${firstDiff(have, want)}`);
    applied = desired!;
  }
  return res;
}


t.test('random edit sequences: the incremental path equals a fresh render, its transaction reaches it, its counters agree', async (t) => {
  const total = { steps: 0, builds: 0, incremental: 0, full: 0, unchanged: 0, chunked: 0 };
  for (const seed of SEEDS) {
    const r = await runSeed(seed, STEPS);
    if (r.failure !== null) {
      t.fail(r.failure);
      continue;
    }
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
  }
  t.pass(`${SEEDS.length} seeds, ${total.steps} applies of ${total.builds} builds: ${total.incremental} incremental, ${total.full} full, ${total.unchanged} unchanged`);
  t.ok(total.incremental > total.full, 'most applies are incremental transactions (the path under test was exercised)');
  t.ok(total.unchanged > 0, 'some applies had nothing to change');
  t.ok(total.chunked > 0, `some tables split policy lists into chunk chains (${total.chunked} applies)`);
});
