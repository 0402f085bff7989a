// The harness of test/datastore/etcd-model.test.ts: a real etcd (test/helpers/etcd.ts), a
// proxy in front of it that can stall and cut (pausable-proxy.ts), a writer that talks to
// etcd directly (as calicoctl and IPAM do), and tern's etcd datastore opened as the daemon
// opens it (openDatastore with its node name: only that node's affinity keys are read),
// with every notification it makes recorded in order and checked as it arrives. A tern
// restart closes that datastore while etcd is cut off (etcd sees only a connection that
// ended, as for a process killed with -9: tern holds no lease or session there) and opens a
// new one, whose load() is retried while etcd is unreachable, as the daemon's start retries
// it (src/daemon/registration.ts).
import type { Test } from 'tap';
import { appendFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { openDatastore, sameContent, type Datastore, type DatastoreOptions, type Snapshot } from '../../src/datastore/index.js';
import { pausableProxy, type PausableProxy } from './pausable-proxy.js';
import { captured } from './etcd-fixtures.js';
import { Model, NODE, type ModelKey, type Value } from './etcd-model-fixtures.js';

export type Event = { type: 'change'; snap: Snapshot } | { type: 'error'; err: Error & { code?: string } } | { type: 'recovered' } | { type: 'restart' };

export interface Harness {
  etcd: EtcdServer;
  proxy: PausableProxy;
  ds: Datastore;
  model: Model;
  events: Event[];
  /** Problems found as notifications arrived (a repeated snapshot, another node's affinity). */
  violations: string[];
  /** The snapshot in force: load()'s, then each change's. */
  latest(): Snapshot;
  /** Highest revision of a write to a key the datastore reads. */
  visibleRevision: number;
  /** `observed`: written while the datastore watches (no outage step since the last quiet point). */
  put(k: ModelKey, v: Value, observed: boolean): Promise<void>;
  del(k: ModelKey): Promise<void>;
  /** Compacts etcd at its current revision. */
  compact(): Promise<void>;
  /** kill -9 and start again on the same data dir; a new writer client. */
  restartEtcd(): Promise<void>;
  /**
   * tern restarts: the datastore is closed and a new one opened; `before` runs once the new
   * one's first load() was tried; that load() is retried until it succeeds (bounded). A
   * 'restart' event marks the change of process in `events`.
   */
  restartTern(before: () => Promise<void>): Promise<void>;
  /** Resolves at the next notification or after `ms`. */
  next(ms: number): Promise<void>;
  log(): string;
}

/** Debounce as in etcd.test.ts; a short stall check so a silently skipped watch (etcd 3.4) is re-read within a few seconds. */
const OPTIONS = { debounceMs: 30, watchCheckMs: 2000 };

export async function harness(t: Test): Promise<Harness> {
  const etcd = await startEtcd(t);
  const proxy = await pausableProxy(t, etcd.clientPort);
  const { logger, lines } = captured();
  let writer = new Etcd3({ hosts: etcd.endpoint });
  t.teardown(() => writer.close());
  const model = new Model();
  const events: Event[] = [];
  const violations: string[] = [];
  let wake: (() => void) | undefined;
  let current: Snapshot | undefined;
  const open = (): Datastore => {
    const ds = openDatastore(`etcd:${proxy.endpoint}`, { ...OPTIONS, logger, affinitiesOf: NODE } as DatastoreOptions);
    t.teardown(() => ds.close());
    const live = () => h.ds === ds;
    ds.onChange((s) => {
      if (!live()) { violations.push(`a closed datastore announced snapshot ${s.revision}`); return; }
      if (current && sameContent(current, s)) violations.push(`snapshot ${s.revision} repeats the content of ${current.revision}`);
      if (current && s.revision <= current.revision) violations.push(`snapshot revision ${s.revision} after ${current.revision}`);
      for (const a of s.blockAffinities.values()) if (a.spec.node !== NODE) violations.push(`snapshot ${s.revision} holds ${a.metadata.name} of ${a.spec.node}`);
      current = s;
      events.push({ type: 'change', snap: s });
      wake?.();
    });
    ds.onError((err) => { if (live()) { events.push({ type: 'error', err }); wake?.(); } });
    ds.onRecovered(() => { if (live()) { events.push({ type: 'recovered' }); wake?.(); } });
    return ds;
  };
  const first = open();
  current = await first.load();

  /** One write, retried on a fresh client while etcd comes back (a restart just finished). */
  const write = async <T>(fn: (c: Etcd3) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(writer);
      } catch (e) {
        if (attempt >= 30) throw e;
        writer.close();
        writer = new Etcd3({ hosts: etcd.endpoint });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const h: Harness = {
    etcd, proxy, ds: first, model, events, violations,
    latest: () => current!,
    visibleRevision: 0,
    async put(k, v, observed) {
      const res = await write((c) => c.put(k.key).value(v.text).exec());
      model.put(k, v, observed);
      if (k.visible) h.visibleRevision = Math.max(h.visibleRevision, Number(res.header.revision));
    },
    async del(k) {
      const res = await write((c) => c.delete().key(k.key).exec());
      model.delete(k);
      if (k.visible && Number(res.deleted) > 0) h.visibleRevision = Math.max(h.visibleRevision, Number(res.header.revision));
    },
    async compact() {
      const rev = (await write((c) => c.kv.range({ key: Buffer.from('/calico/') }))).header.revision;
      await write((c) => c.kv.compact({ revision: rev, physical: true })).catch((e: Error) => {
        if (!/compacted/.test(e.message)) throw e;
      });
    },
    async restartTern(before) {
      await h.ds.close();
      events.push({ type: 'restart' });
      const ds = open();
      h.ds = ds;
      current = undefined;
      let loaded: Snapshot | undefined;
      let lastError: unknown;
      const attempt = async (): Promise<void> => {
        try {
          loaded = await ds.load();
        } catch (e) {
          if ((e as { code?: string }).code !== 'ERR_DATASTORE_UNREACHABLE') throw e;
          lastError = e;
        }
      };
      await attempt();
      await before();
      for (let i = 0; !loaded && i < 120; i++) {
        await new Promise((r) => setTimeout(r, 250));
        await attempt();
      }
      if (!loaded) throw new Error(`the new datastore never loaded: ${String(lastError)}`);
      current = loaded;
    },
    async restartEtcd() {
      await etcd.kill();
      await etcd.start();
      writer.close();
      writer = new Etcd3({ hosts: etcd.endpoint });
    },
    next: (ms) => new Promise<void>((r) => {
      const timer = setTimeout(r, ms);
      wake = () => { clearTimeout(timer); r(); };
    }),
    log: () => {
      // Exploration: TERN_ETCD_MODEL_LOG=FILE keeps the whole debug log of a failed check.
      if (process.env.TERN_ETCD_MODEL_LOG) appendFileSync(process.env.TERN_ETCD_MODEL_LOG, lines.join(''));
      return lines.filter((l) => !/watchEventStale|watchChecked/.test(l)).slice(-40).join('');
    },
  };
  return h;
}

/** The datastore's view and the model's agree (the comparison the quiet points wait for). */
export function agrees(h: Harness): boolean {
  const { actual, expected } = h.model.compare(h.latest());
  return actual.length === expected.length && actual.every((x, i) => x === expected[i]);
}
