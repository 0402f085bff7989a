// The young generation during a large burst (src/runtime/heap-growth.ts): held at its
// initial size, it grows once largeBurstYoungGeneration(true) allows it, stops at
// BURST_SEMI_SPACE_MIB, and grows no further once the burst is over. Real V8, in a child
// process that loads only this file (tap and its tools alone grow an unheld young generation).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { holdYoungGeneration } from '../../src/runtime/v8-flags.js';
import { BURST_SEMI_SPACE_MIB, largeBurstYoungGeneration } from '../../src/runtime/heap-growth.js';

const newSpaceMib = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 2 ** 20;
const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

/** Allocation whose objects survive a few scavenges (a backlog of 30 000), in slices with loop turns between. */
async function burst(slices: number): Promise<void> {
  let keep: object[] = [];
  for (let s = 0; s < slices; s++) {
    for (let i = 0; i < 50_000; i++) {
      keep.push({ prefix: `10.${i & 255}.${s & 255}.0/26`, n: i });
      if (keep.length > 30_000) keep = [];
    }
    await turn();
  }
}

async function child(): Promise<void> {
  holdYoungGeneration();
  await burst(20);
  const held = newSpaceMib();
  largeBurstYoungGeneration(true);
  await burst(60);
  const grown = newSpaceMib();
  largeBurstYoungGeneration(false);
  await burst(20);
  process.stdout.write(JSON.stringify({ held, grown, after: newSpaceMib() }));
}

if (process.env.HEAP_GROWTH_CHILD) void child();
else {
  const { default: t } = await import('tap'); // not in the child: tap alone grows its young generation
  t.test('held, then grown to the cap during a large burst, then held again', async (t) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', import.meta.filename], {
      env: { ...process.env, HEAP_GROWTH_CHILD: '1' },
    });
    const { held, grown, after } = JSON.parse(stdout) as { held: number; grown: number; after: number };
    t.ok(held < 2 * BURST_SEMI_SPACE_MIB, `held young generation stays small (${held} MiB)`);
    t.ok(grown > held, `grows during the burst (${held} → ${grown} MiB)`);
    t.ok(grown <= 2 * BURST_SEMI_SPACE_MIB, `stops at the cap (${grown} MiB, both semi-spaces)`);
    t.ok(after <= grown, `grows no further after the burst (${after} MiB)`);
  });
}
