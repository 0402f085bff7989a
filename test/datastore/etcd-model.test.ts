// Model test of the etcd datastore against a real etcd that goes away: random puts,
// updates, deletes and re-creates of the kinds tern reads (valid, invalid and very large
// values; this node's and other nodes' block affinities; keys tern never reads), while the
// connection is cut, refused or stalled, etcd is compacted past the watcher and restarted
// with kill -9 on the same data dir, and tern itself restarts while etcd is unreachable (a
// new datastore whose load() is retried until etcd answers; it knows nothing the old one
// saw, and reports again each invalid value it reads). At each quiet point (proxy up, etcd up) the test waits
// on the datastore's own signals (a change, its position reaching the last relevant write,
// its problems in force matching etcd's content), bounded, and then checks:
// - the snapshot in force equals the model (etcd-model-fixtures.ts): the last valid value
//   of every key this node reads, nothing deleted (also during an outage), no other node's
//   affinity; under an invalid value, the last valid one the datastore can have seen (a
//   value written during an outage or a compaction, or still in flight when one began, may
//   have been replaced before the re-read);
// - every invalid value still in etcd was reported once through onError, naming its key;
//   every error is an invalid value or (only after an outage step) a lost connection;
// - the problems in force (problems(), what `tern status` lists) are exactly the invalid
//   values etcd holds at keys the node reads (a lost connection ends with the reconnect, an
//   invalid value only when its key is fixed or deleted), and onRecovered followed the last
//   error reported if and only if none is left;
// - no snapshot repeats the one before it, revisions only grow, nothing is thrown.
// The harness: etcd-model-harness.ts. TERN_ETCD_MODEL_SEEDS=1,2,3 and
// TERN_ETCD_MODEL_STEPS=N explore more (seed 3 is among the defaults for its two tern
// restarts in 36 steps). A tern restart here is a new datastore in this process, not a
// daemon process killed and started again.
import t, { type Test } from 'tap';
import { rng } from '../rib/fixtures/helpers.js';
import { KEYS, randomValue, type ModelKey, type Value } from './etcd-model-fixtures.js';
import { agrees, harness, type Harness } from './etcd-model-harness.js';

const SEEDS = (process.env.TERN_ETCD_MODEL_SEEDS ?? '11,23,3').split(',').map(Number);
const STEPS = Number(process.env.TERN_ETCD_MODEL_STEPS ?? 36);
/** Bound on reaching a quiet point: reconnect backoff tops at 5 s, a stalled watch is re-read within ~3 stall-check intervals. */
const SYNC_MS = 30_000;

interface Run {
  h: Harness;
  random: () => number;
  pick<T>(xs: readonly T[]): T;
  n: number;
  /** An outage step (cut, refusal, restart, stall) happened since the last quiet point. */
  outage: boolean;
  /** A compaction since the last quiet point: a lagging watch may be cancelled and re-read. */
  compacted: boolean;
  /** Index in h.events of the last quiet point. */
  checked: number;
  /** key → index in h.events when its current invalid value was written. */
  invalidSince: Map<string, number>;
  /** Every marker an invalid value carried. */
  log: string[];
}

async function put(r: Run, k: ModelKey, v?: Value): Promise<void> {
  const value = v ?? randomValue(k, r.random, ++r.n);
  const at = r.h.events.length; // the watch may report it before the write's own answer arrives
  await r.h.put(k, value, !r.outage && !r.compacted);
  if (value.invalid !== undefined) r.invalidSince.set(k.key, at);
  else r.invalidSince.delete(k.key);
  r.log.push(`put ${k.key} ${value.view === undefined ? `invalid(${value.invalid})` : value.text.length > 2000 ? `large ${value.text.length}` : 'valid'}`);
}

async function del(r: Run, k: ModelKey): Promise<void> {
  await r.h.del(k);
  r.invalidSince.delete(k.key);
  r.log.push(`delete ${k.key}`);
}

/** 1..max random writes: puts mostly, deletes of present keys, a delete and re-create now and then. */
async function burst(r: Run, max: number): Promise<void> {
  const count = 1 + Math.floor(r.random() * max);
  for (let i = 0; i < count; i++) {
    const k = r.pick(KEYS);
    const roll = r.random();
    if (roll < 0.25 && r.h.model.stored.has(k.key)) await del(r, k);
    else if (roll < 0.35 && r.h.model.stored.has(k.key)) {
      await del(r, k);
      await put(r, k);
    } else await put(r, k);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** tern restarts while cut off from etcd, with writes before and after; etcd answers again after a while. */
async function ternRestart(r: Run): Promise<void> {
  const { h } = r;
  h.model.blur();
  h.proxy.refuse(true);
  h.proxy.cut();
  r.outage = true;
  await burst(r, 3);
  // The new process reports each invalid value it reads once, from its restart on.
  for (const k of r.invalidSince.keys()) r.invalidSince.set(k, h.events.length);
  h.model.forget();
  await h.restartTern(async () => {
    await burst(r, 4);
    await sleep(Math.floor(r.random() * 800));
    h.proxy.refuse(false);
  });
}

async function step(r: Run, restarts: { left: number; tern: number }): Promise<string> {
  const { h } = r;
  const roll = r.random();
  if (roll < 0.45) {
    await burst(r, 4);
    return 'edits';
  }
  if (roll < 0.55) {
    h.model.blur();
    h.proxy.cut();
    r.outage = true;
    await burst(r, 3);
    return 'cut';
  }
  if (roll < 0.7) {
    // etcd unreachable for tern: edits, deletes and a compaction past its revision meanwhile.
    h.model.blur();
    h.proxy.refuse(true);
    h.proxy.cut();
    r.outage = true;
    await burst(r, 8);
    if (r.random() < 0.6) await h.compact();
    await sleep(Math.floor(r.random() * 800));
    h.proxy.refuse(false);
    return 'outage';
  }
  if (roll < 0.8) {
    // A stall shorter than gRPC's keepalive (a ping unanswered for 5 s drops the connection).
    h.model.blur();
    h.proxy.hold();
    r.outage = true;
    await burst(r, 5);
    if (r.random() < 0.5) await h.compact();
    await sleep(100 + Math.floor(r.random() * 1200));
    h.proxy.release();
    return 'stall';
  }
  if (roll < 0.87) {
    r.compacted = true;
    await burst(r, 2);
    h.model.blur();
    await h.compact();
    return 'compact';
  }
  if (roll < 0.91 && restarts.left > 0 && (restarts.tern === 0 || r.random() < 0.5)) {
    restarts.left--;
    h.model.blur();
    r.outage = true;
    await h.restartEtcd();
    return 'restart';
  }
  if (roll < 0.91 && restarts.tern > 0) {
    restarts.tern--;
    await ternRestart(r);
    return 'tern restart';
  }
  await quiet(r);
  return 'check';
}

/**
 * The invalid values etcd holds at keys this node reads that were not reported once, naming
 * key and value (each invalid text is unique; bad JSON is named by its key only).
 */
function unreportedValues(r: Run): string[] {
  const out: string[] = [];
  for (const [key, at] of r.invalidSince) {
    const k = KEYS.find((x) => x.key === key)!;
    const v = r.h.model.stored.get(key)!;
    if (!k.visible) continue;
    const later = r.h.events.slice(at).flatMap((e) => (e.type === 'error' && e.err.name === 'ConfigError' ? [e.err.message] : []));
    if (!later.some((m) => m.includes(key) && m.includes(v.invalid!))) out.push(key);
    if (v.invalid && later.filter((m) => m.includes(v.invalid!)).length > 1) out.push(`${key} (reported twice)`);
  }
  return out;
}

/** The problems the datastore must have in force once settled: each invalid value at a key it reads. */
function expectedProblems(r: Run): string[] {
  return [...r.invalidSince.keys()].filter((key) => KEYS.find((x) => x.key === key)!.visible).sort().map((key) => `ConfigError ${key}`);
}

/** The datastore's problems in force, each as its kind and its key (invalid value) or code. */
function problemsOf(h: Harness): string[] {
  return h.ds.problems().map((e) => `${e.name} ${e.name === 'ConfigError' ? String(e.details.file) : e.code}`);
}

/** Whether onRecovered came after the last error the running process reported; undefined when none was. */
function recoveredAfterLastError(h: Harness): boolean | undefined {
  const events = h.events.slice(h.events.map((e) => e.type).lastIndexOf('restart') + 1);
  const last = events.map((e) => e.type).lastIndexOf('error');
  return last < 0 ? undefined : events.slice(last).some((e) => e.type === 'recovered');
}

/**
 * Waits for the datastore to settle on the model's state, bounded; false on timeout. Its
 * position is the highest revision applied from either watch, so an invalid value (which
 * changes no snapshot) is waited for by its report.
 */
async function settle(r: Run): Promise<boolean> {
  const { h } = r;
  const end = Date.now() + SYNC_MS;
  for (;;) {
    const expected = expectedProblems(r);
    const problems = problemsOf(h);
    const inForce = problems.length === expected.length && problems.every((p, i) => p === expected[i]);
    const recovered = expected.length > 0 || recoveredAfterLastError(h) !== false;
    const position = h.ds.position().etcdRevision ?? 0;
    if (inForce && recovered && position >= h.visibleRevision && agrees(h) && unreportedValues(r).length === 0) return true;
    if (Date.now() > end) return false;
    await h.next(100);
  }
}

/** A quiet point: proxy and etcd up; the datastore settles; its state and notifications are checked. */
async function quiet(r: Run): Promise<void> {
  const { h } = r;
  const t = current;
  h.proxy.release();
  h.proxy.refuse(false);
  const settled = await settle(r);
  const explain = (): void => t.comment(`steps:\n${r.log.slice(-30).join('\n')}\ndatastore log:\n${h.log()}`);
  if (!settled) explain();
  const { actual, expected } = h.model.compare(h.latest());
  t.same(actual, expected, 'the snapshot in force is the model of etcd (last valid values, deletes applied, no other node\'s affinity)');
  t.equal((h.ds as { current?: () => unknown }).current?.(), h.latest(), 'current() is the last snapshot announced');
  t.same(h.violations, [], 'no snapshot repeated one before it; revisions grow; no other node\'s affinity');
  const since = h.events.slice(r.checked);
  const errors = since.flatMap((e) => (e.type === 'error' ? [e.err] : []));
  const configErrors = errors.filter((e) => e.name === 'ConfigError');
  const lost = errors.filter((e) => e.name === 'DatastoreError');
  t.same(errors.filter((e) => e.name !== 'ConfigError' && e.name !== 'DatastoreError').map((e) => e.message), [], 'every error is an invalid value or a lost connection');
  if (!r.outage) t.same(lost.map((e) => e.message), [], 'no outage reported without one');
  t.same(lost.filter((e) => e.code !== 'ERR_DATASTORE_DISCONNECTED').map((e) => e.message), [], 'a lost connection is ERR_DATASTORE_DISCONNECTED');
  const unreported = unreportedValues(r);
  if (!t.same(unreported, [], 'each invalid value in etcd reported once, naming its key') && settled) explain();
  const inForce = expectedProblems(r);
  t.same(problemsOf(h), inForce, 'the problems in force are the invalid values etcd holds at keys the node reads (no lost connection once back)');
  const recovered = recoveredAfterLastError(h);
  if (recovered !== undefined) t.equal(recovered, inForce.length === 0, 'onRecovered followed the last error if and only if no problem is left');
  const invalidKeys = KEYS.filter((k) => k.visible).map((k) => k.key);
  t.same(configErrors.filter((e) => !invalidKeys.some((k) => e.message.includes(k))).map((e) => e.message), [], 'every invalid-value error names a key the node reads');
  r.checked = h.events.length;
  h.model.settled();
  r.outage = false;
  r.compacted = false;
}

let current: Test;

function newRun(h: Harness, seed: number): Run {
  const random = rng(seed);
  return { h, random, pick: (xs) => xs[Math.floor(random() * xs.length)]!, n: 0, outage: false, compacted: false, checked: 0, invalidSince: new Map(), log: [] };
}

const key = (k: string): ModelKey => KEYS.find((x) => x.key.endsWith(k))!;

t.test('a key deleted and re-created with an invalid value while etcd is unreachable keeps nothing of its old value', async (tt) => {
  current = tt;
  const h = await harness(tt);
  const r = newRun(h, 1);
  const tor = key('/bgppeers/tor-a');
  await put(r, tor, randomValue(tor, () => 0.5, 1));
  await quiet(r);
  tt.ok(h.latest().bgpPeers.has('tor-a'), 'tor-a in the snapshot');
  h.proxy.refuse(true);
  h.proxy.cut();
  r.outage = true;
  await del(r, tor);
  await put(r, tor, { text: '{"kind":"BGPPeer",', invalid: '' });
  await quiet(r);
  tt.notOk(h.latest().bgpPeers.has('tor-a'), 'tor-a is gone: its old value belonged to the deleted key');
});

t.test('tern restarted while etcd is unreachable: the new process reads etcd\'s state once it answers, and reports each invalid value once', async (tt) => {
  current = tt;
  const h = await harness(tt);
  const r = newRun(h, 2);
  const tor = key('/bgppeers/tor-a');
  const pool = key('/ippools/pool-a');
  const block = key('/node-1/ipv4/block/10.244.1.0-26');
  await put(r, tor, randomValue(tor, () => 0.5, 1));
  await put(r, pool, { text: '{"kind":"IPPool",', invalid: '' });
  await put(r, block, randomValue(block, () => 0.5, 2));
  await quiet(r);
  tt.ok(h.latest().bgpPeers.has('tor-a'), 'tor-a in the snapshot');
  r.log.push('-- tern restart');
  h.model.blur();
  h.proxy.refuse(true);
  h.proxy.cut();
  r.outage = true;
  await put(r, tor, { text: JSON.stringify({ kind: 'BGPPeer', apiVersion: 'projectcalico.org/v3', metadata: { name: 'tor-a.x9z', uid: 'u-9' }, spec: { peerIP: '10.1.0.9', asNumber: 65009 } }), invalid: 'tor-a.x9z' });
  for (const k of r.invalidSince.keys()) r.invalidSince.set(k, h.events.length);
  h.model.forget();
  await h.restartTern(async () => {
    await del(r, block);
    h.proxy.refuse(false);
  });
  await quiet(r);
  tt.notOk(h.latest().bgpPeers.has('tor-a'), 'tor-a under an invalid value: the new process never saw a valid one');
  tt.equal(h.latest().blockAffinities.size, 0, 'the block deleted before the new process read etcd');
});

for (const seed of SEEDS) {
  t.test(`seed ${seed}: ${STEPS} random steps against an etcd that goes away`, async (tt) => {
    current = tt;
    const h = await harness(tt);
    const r = newRun(h, seed);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
      tt.comment(`thrown after: ${r.log.slice(-12).join(' | ')}\n${(e as Error).stack}\n${h.log()}`);
    };
    process.on('unhandledRejection', onUnhandled);
    tt.teardown(() => process.off('unhandledRejection', onUnhandled));
    const restarts = { left: 2, tern: 2 };
    const kinds: string[] = [];
    for (let i = 0; i < STEPS; i++) {
      const what = await step(r, restarts);
      kinds.push(what);
      r.log.push(`-- step ${i}: ${what}`);
    }
    await quiet(r);
    // Nothing more comes once settled: no late replay of an old state.
    const before = h.events.length;
    await new Promise((res) => setTimeout(res, 500));
    tt.same(h.events.slice(before).map((e) => e.type), [], 'no notification after the last quiet point');
    tt.same(unhandled, [], 'nothing thrown to the caller');
    tt.comment(`steps: ${[...new Set(kinds)].map((k) => `${k}×${kinds.filter((x) => x === k).length}`).join(' ')}; snapshots ${h.events.filter((e) => e.type === 'change').length}; errors ${h.events.filter((e) => e.type === 'error').length}`);
  });
}
