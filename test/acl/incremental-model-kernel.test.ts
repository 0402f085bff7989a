// The incremental-path model test (incremental-model.test.ts) on the real kernel: for a few
// seeds, the random snapshot stream (fixtures/edit-driver.ts) goes through a real
// AclCompanion whose nft runs in a namespace this test creates — kept caches, coalesced
// builds, incremental transactions with their targeted read-back, a full replace when
// needed: nft.ts as the daemon runs it. After every step the live table must equal, object
// by object (`nft -j list table`, handles left out, elements sorted), what a full load of a
// fresh render of the same snapshot gives in a second namespace; the companion must report
// no error and the snapshot's revision as applied. Namespaces `tn-aclinc-<random>-*` are
// created here and removed in teardown.
import { PassThrough } from 'node:stream';
import t from 'tap';
import { AclCompanion } from '../../src/acl/companion.js';
import { NftCommand } from '../../src/acl/nft.js';
import { buildModel } from '../../src/acl/model.js';
import { renderTable, tableScript } from '../../src/acl/render.js';
import { systemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { createLab, type Lab } from '../../lab/netns.js';
import { EditDriver } from './fixtures/edit-driver.js';
import { firstDiff } from './fixtures/incremental-expect.js';

const SEEDS = (process.env.TERN_ACLCACHE_KERNEL_SEEDS ?? '4,7,11').split(',').map(Number);
const STEPS = Number(process.env.TERN_ACLCACHE_KERNEL_STEPS ?? 12);

type Obj = Record<string, unknown>;

/** The live table as comparable text: chains with their rules, sets and maps by name; no handles; elements sorted. */
async function liveTable(lab: Lab, host: string): Promise<string> {
  const out = (await lab.exec(host, 'nft', ['-j', 'list', 'table', 'inet', 'tern'])).stdout;
  const objs = ((JSON.parse(out) as { nftables: Obj[] }).nftables).filter((o) => !('metainfo' in o) && !('table' in o));
  const groups = new Map<string, string[]>();
  const add = (key: string, text: string): void => { groups.set(key, [...(groups.get(key) ?? []), text]); };
  const strip = (o: unknown): string => JSON.stringify(o, (k, v: unknown) => (k === 'handle' ? undefined : v));
  for (const o of objs) {
    const [kind, body] = Object.entries(o)[0] as [string, Obj];
    if (kind === 'rule') add(`chain ${String(body.chain)}`, strip(body));
    else if (kind === 'set' || kind === 'map') {
      const elem = Array.isArray(body.elem) ? (body.elem as unknown[]).map((e) => JSON.stringify(e)).sort() : [];
      add(`${kind} ${String(body.name)}`, strip({ ...body, elem }));
    } else add(`${kind} ${String(body.name)}`, strip(body));
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}\n  ${v.join('\n  ')}`).join('\n');
}


t.test('random edit sequences through the companion: the live table equals a fresh full load', async (t) => {
  const lab = createLab(t, { area: 'aclinc' });
  await lab.addHost('inc');
  await lab.addHost('ref');
  const modes = { incremental: 0, full: 0, unchanged: 0 };
  let steps = 0;
  // Warnings (JSON lines): an incremental transaction the kernel refused falls back to a full
  // replace, which would hide it from the table comparison.
  const warnings: string[] = [];
  const stream = new PassThrough();
  stream.setEncoding('utf8').on('data', (d: string) => warnings.push(d));
  const logger = createLogger({ json: true, level: 'warn', stream });
  for (const seed of SEEDS) {
    const c = new AclCompanion({ nodeName: 'n1', logger, clock: systemClock, resyncMs: 3_600_000, nft: new NftCommand({ netns: lab.ns('inc') }) });
    c.start();
    const drive = new EditDriver(seed, [0, 0.5, 1][seed % 3]!);
    try {
      for (let step = 0; step <= STEPS; step++) {
        const snaps = drive.step(step);
        const applies = c.status().applies;
        for (const s of snaps) c.update(s);
        await c.idle();
        const st = c.status();
        const last = snaps[snaps.length - 1]!;
        await lab.exec('ref', 'nft', ['-f', '-'], { input: tableScript(renderTable(buildModel(last, 'n1'))) });
        const [live, fresh] = [await liveTable(lab, 'inc'), await liveTable(lab, 'ref')];
        const what = `seed ${seed} step ${step}`;
        await new Promise<void>((resolve) => setImmediate(resolve));
        const refused = warnings.filter((w) => w.includes('aclIncrementalFailed'));
        if (st.lastError !== null || st.appliedRevision !== last.revision || live !== fresh || refused.length > 0) {
          t.fail(`${what}: error ${st.lastError}, applied revision ${st.appliedRevision} of ${last.revision}, ${refused.join(' ')}\n${firstDiff(live, fresh, ['live ', 'fresh'])}\nedits:\n  ${drive.history.join('\n  ')}`);
          break;
        }
        if (st.applies === applies) modes.unchanged++;
        else modes[st.lastMode === 'incremental' ? 'incremental' : 'full']++;
        steps++;
      }
    } finally {
      await c.stop();
    }
  }
  t.pass(`${SEEDS.length} seeds, ${steps} steps: ${modes.incremental} incremental transactions, ${modes.full} full replaces, ${modes.unchanged} unchanged`);
  t.ok(modes.incremental > modes.full, 'most changes reached the kernel as incremental transactions');
});
