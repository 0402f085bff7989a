// etcd v3 datastore, reading and writing Calico's own keys (etcd-keys.ts), so tern and
// calicoctl/calico-node can share one etcd.
//
// Design. load() reads the v3 resources and the IPAM affinity keys in ONE transaction (two
// ranges at one revision R), then watches both prefixes from R+1. With `affinitiesOf` (the
// daemon) the affinity range and watch cover that node's keys only, as calico-node's confd
// watches `/calico/ipam/v2/host/<node>`: another node's block change sends it no event. Watch events update an
// in-memory key → resource map; a debounced rebuild turns bursts into one snapshot.
//
// Ordering. An event is applied only if its revision is above R and above the revision of
// the last event applied to the same key: the two prefix watches are each ordered, but not
// with each other, so the floor is per key. A later load() (the daemon re-reads after
// registering its Node) cancels the earlier watches first, so no stale stream survives.
// The revision in use (R, raised by each applied event) is position().etcdRevision.
//
// Compaction. A watch whose start revision etcd has compacted away is cancelled by etcd;
// the whole state is then re-read at a new revision and watched from there (as after a
// connection loss, but without reporting an outage unless that re-read fails three times
// in a row: then tern has no watch and cannot read, and it is the lost connection's problem,
// reported once and in force until a re-read succeeds, retried with the reconnect backoff).
// The full read is one gRPC message, so the client accepts messages up to 1 GiB instead of gRPC's 4 MiB. etcd 3.4 (and 3.5 before
// its 2024 fix) sometimes moves a lagging watch past a compaction without cancelling it and
// without the events in between: etcd-watch-check.ts finds that and the same re-read
// follows (counted in position().watchStalls).
//
// A watch creation etcd answers "created and cancelled" or never confirms would stall the
// client's later watches (etcd-watch-confirm.ts): the client is closed and the same re-read
// follows on a new one, backing off while it recurs (also counted in watchStalls).
//
// Connection loss. The first watch disconnect (or failed request) moves to 'lost': the last
// snapshot stays, one DatastoreError ERR_DATASTORE_DISCONNECTED goes to onError, the
// watchers are dropped, and a reconnect loop with exponential backoff (0.25 s … 5 s)
// re-reads everything. On success the new state replaces the old, a snapshot is emitted
// only if content changed (no replay of events already seen), and watching resumes from
// the re-read revision. Nothing is thrown to the caller while lost.
//
// Invalid values in etcd (bad JSON, failed validation) are skipped — the key keeps its
// last good value if it had one since it was last created (a full read compares the key's
// create revision: deleted and re-created while unwatched, it keeps nothing) — and are
// reported once per key and value via onError. The lost connection and each invalid value
// are separate problems (etcd-problems.ts, problems()): reconnecting ends the one, a valid
// value or a delete at the key ends the other; onRecovered comes when none is left.
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { TimerHandle } from '../util/clock.js';
import { ConfigError, DatastoreError, errorMessage } from '../util/errors.js';
import { DatastoreBase, type Datastore, type DatastoreOptions, type DatastorePosition } from './datastore.js';
import { BACKOFF_MAX_MS, EtcdConnection, type EtcdClientOptions, type EtcdTls } from './etcd-client.js';
import { compactedAt, unchangedAt, WATCH_CHECK_MS, WatchCheck } from './etcd-watch-check.js';
import { WATCH_CONFIRM_MS, WatchConfirm } from './etcd-watch-confirm.js';
import { AFFINITY_PREFIX, parseEtcdKey, prefixEnd, RESOURCE_PREFIX } from './etcd-keys.js';
import { applyResources, deleteResource, listResources } from './etcd-edit.js';
import { decodeKeyValue } from './etcd-decode.js';
import { EtcdProblems } from './etcd-problems.js';
import { buildSnapshot } from './snapshot.js';
import type { Resource, ResourceKind, Snapshot } from '../model/types.js';

export type { EtcdTls };
export interface EtcdDatastoreOptions extends DatastoreOptions, EtcdClientOptions {
  /** Interval of the watch stall check (etcd-watch-check.ts; default 20 s). */
  watchCheckMs?: number;
  /** Bound on a watch's creation (etcd-watch-confirm.ts; default 10 s). */
  watchConfirmMs?: number;
}

type State = 'new' | 'watching' | 'lost' | 'closed';

const BACKOFF_MIN_MS = 250;

/**
 * A re-read after a dropped watch that fails this many times in a row (0.25 + 0.5 s of
 * back-off between them) is the lost connection's problem: a stall of a second or so, which
 * the watch that was dropped may itself have met, is retried without reporting an outage.
 */
const RELIST_FAILURES_REPORTED = 3;

export class EtcdDatastore extends DatastoreBase implements Datastore {
  readonly kind = 'etcd' as const;
  private readonly connection: EtcdConnection;
  private entries = new Map<string, Resource>();
  /** key → create revision of the key whose value `entries` holds. */
  private created = new Map<string, string>();
  /** Revision of the state read by the last full read. */
  private baseRevision = 0;
  /** key → revision of the last event applied to it since the last full read. */
  private keyRevisions = new Map<string, number>();
  /** Highest revision applied: the base read or a later event. */
  private appliedRevision = 0;
  private readonly problemsInForce: EtcdProblems;
  private snapshot: Snapshot | undefined;
  private state: State = 'new';
  private watchers: Watcher[] = [];
  private generation = 0;
  private rebuildTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private readonly watchCheck: WatchCheck;
  private readonly watchConfirm: WatchConfirm;
  /** Why the watch was last dropped for a re-read (named if that re-read fails). */
  private relistCause = '';
  /** Failed attempts of the re-read after a dropped watch (reported from the third). */
  private relistFailures = 0;
  /** Watches found stalled (behind a compaction, or never confirmed) and re-read since open. */
  private watchStalls = 0;

  /** The affinity keys read and watched: every node's, or one node's (affinitiesOf). */
  private readonly affinityPrefix: string;

  constructor(readonly endpoints: string[], opts: EtcdDatastoreOptions = {}) {
    super(opts.logger?.child({ component: 'datastore', datastore: 'etcd', endpoints: endpoints.join(',') }), opts);
    this.affinityPrefix = opts.affinitiesOf !== undefined ? `${AFFINITY_PREFIX}${opts.affinitiesOf}/` : AFFINITY_PREFIX;
    this.problemsInForce = new EtcdProblems(this.listeners, this.logger);
    this.connection = new EtcdConnection(endpoints, opts, opts.requestTimeoutMs ?? 5000); // TLS files read now: errors at open
    this.watchCheck = new WatchCheck({
      clock: this.clock,
      intervalMs: opts.watchCheckMs ?? WATCH_CHECK_MS,
      logger: this.logger,
      compacted: (revision) => compactedAt(this.connection, RESOURCE_PREFIX, revision),
      onStall: (position) => this.stalled(position),
      // The node's own block affinities: a few keys, cheap to read when their watch is quiet.
      unchanged: async (i) => (i === 1 ? unchangedAt(this.connection, this.affinityPrefix, this.entries) : undefined),
    });
    this.watchConfirm = new WatchConfirm({ clock: this.clock, timeoutMs: opts.watchConfirmMs ?? WATCH_CONFIRM_MS, onFail: (reason) => this.unconfirmed(reason) });
  }

  private get client(): Etcd3 { return this.connection.client; }
  private request<T>(fn: () => Promise<T>): Promise<T> { return this.connection.request(fn); }
  private deadline(): Date { return this.connection.deadline(); }

  async load(): Promise<Snapshot> {
    const { revision, kvs } = await this.readAll();
    this.dropWatchers();
    this.rebuildTimer?.cancel();
    this.entries = this.decodeAll(kvs);
    this.setBase(revision);
    this.problemsInForce.settle();
    this.snapshot = buildSnapshot(this.entries.values(), this.counter.next());
    this.startWatch(revision + 1);
    this.logger?.info('datastore loaded', { event: 'datastoreLoaded', resources: this.entries.size, etcdRevision: revision });
    return this.snapshot;
  }

  async apply(resources: Resource[]): Promise<void> {
    await applyResources(this.connection, resources);
  }

  async delete(kind: ResourceKind, name: string, namespace?: string): Promise<boolean> {
    return deleteResource(this.connection, kind, name, namespace);
  }

  async list(kind: ResourceKind, name?: string, namespace?: string): Promise<Resource[]> {
    return listResources(this.connection, kind, name, namespace);
  }

  override problems(): readonly (DatastoreError | ConfigError)[] {
    return this.problemsInForce.list();
  }

  position(): DatastorePosition {
    return { kind: 'etcd', etcdRevision: this.appliedRevision, watchStalls: this.watchStalls };
  }

  /** The current snapshot (after load()). */
  current(): Snapshot | undefined {
    return this.snapshot;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.listeners.closed = true;
    this.rebuildTimer?.cancel();
    this.reconnectTimer?.cancel();
    this.dropWatchers();
    this.connection.close();
  }

  // ---- reading ----

  /** Both prefixes at one revision, bounded by the request timeout. */
  private async readAll(): Promise<{ revision: number; kvs: IKeyValue[] }> {
    const range = (p: string) => ({ request_range: { key: Buffer.from(p), range_end: prefixEnd(p) } });
    const res = await this.request(() =>
      this.client.kv.txn({ success: [range(RESOURCE_PREFIX), range(this.affinityPrefix)] }, { deadline: this.deadline() }),
    );
    const kvs = res.responses.flatMap((r) => r.response_range?.kvs ?? []);
    return { revision: Number(res.header.revision), kvs };
  }

  /** A full read's resources; a bad value keeps the key's last good one only while the key was not re-created. */
  private decodeAll(kvs: IKeyValue[]): Map<string, Resource> {
    const out = new Map<string, Resource>();
    const created = new Map<string, string>();
    this.problemsInForce.beginRead();
    for (const kv of kvs) {
      const key = kv.key.toString();
      const same = this.created.get(key) === String(kv.create_revision);
      const r = this.decode(kv) ?? (same ? this.entries.get(key) : undefined);
      if (!r) continue;
      out.set(key, r);
      created.set(key, String(kv.create_revision));
    }
    this.problemsInForce.endRead();
    this.created = created;
    return out;
  }

  /**
   * A key/value as a resource; undefined for keys tern ignores or bad values. A bad value
   * is a problem in force until the key is valid or gone (etcd-problems.ts).
   */
  private decode(kv: IKeyValue): Resource | undefined {
    const key = kv.key.toString();
    try {
      const r = decodeKeyValue(key, kv);
      this.problemsInForce.cleared(key);
      return r;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.problemsInForce.invalidValue(key, kv.value.toString(), e);
      return undefined;
    }
  }

  // ---- watching ----

  private startWatch(fromRevision: number): void {
    this.state = 'watching';
    const gen = ++this.generation;
    const prefixes = [RESOURCE_PREFIX, this.affinityPrefix];
    this.watchCheck.start(fromRevision, prefixes.length);
    this.watchConfirm.start(prefixes.length);
    prefixes.forEach((prefix, i) => {
      const w = this.client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher();
      w.on('data', (res) => gen === this.generation && this.watchCheck.onResponse(i, res));
      w.on('put', (kv) => gen === this.generation && this.onPut(kv));
      w.on('delete', (kv) => gen === this.generation && this.onDelete(kv));
      w.on('disconnected', (err) => gen === this.generation && this.lost(err));
      w.on('error', (err) => {
        // etcd has already cancelled this watch (and the client dropped it): cancelling it
        // again would draw a response the client cannot match to a watcher, which it throws.
        this.watchers = this.watchers.filter((x) => x !== w);
        if (gen !== this.generation || this.watchConfirm.cancelled(i)) return;
        this.cancelled(err);
      });
      w.on('connected', () => {
        if (gen === this.generation && this.watchConfirm.confirmed(i)) this.backoffMs = BACKOFF_MIN_MS;
      });
      this.watchers.push(w);
    });
  }

  private setBase(revision: number): void {
    this.baseRevision = revision;
    this.appliedRevision = revision;
    this.keyRevisions = new Map();
  }

  /**
   * True when the event is newer than what is applied for its key (and records it); false
   * for an event at or below the full read's revision or the key's last applied event.
   */
  private fresh(key: string, kv: IKeyValue): boolean {
    const rev = Number(kv.mod_revision);
    if (!(rev > this.baseRevision) || rev <= (this.keyRevisions.get(key) ?? 0)) {
      this.logger?.debug('stale watch event ignored', { event: 'watchEventStale', key, etcdRevision: rev, appliedRevision: this.appliedRevision });
      return false;
    }
    this.keyRevisions.set(key, rev);
    if (rev > this.appliedRevision) this.appliedRevision = rev;
    return true;
  }

  private onPut(kv: IKeyValue): void {
    const key = kv.key.toString();
    if (!parseEtcdKey(key) || !this.fresh(key, kv)) return;
    const r = this.decode(kv);
    if (!r) return; // bad value: keep the last good one
    this.problemsInForce.settle();
    this.entries.set(key, r);
    this.created.set(key, String(kv.create_revision));
    this.scheduleRebuild();
  }

  private onDelete(kv: IKeyValue): void {
    const key = kv.key.toString();
    if (!parseEtcdKey(key) || !this.fresh(key, kv)) return;
    this.problemsInForce.cleared(key);
    this.problemsInForce.settle();
    this.created.delete(key);
    if (this.entries.delete(key)) this.scheduleRebuild();
  }

  private scheduleRebuild(): void {
    this.rebuildTimer?.cancel();
    this.rebuildTimer = this.clock.setTimer(this.debounceMs, () => {
      this.rebuildTimer = undefined;
      this.publish();
    });
  }

  /** Emits a snapshot of `entries` if its content differs from the current one. */
  private publish(): void {
    if (this.state === 'closed' || !this.snapshot) return;
    const next = this.counter.changed(this.snapshot, this.entries.values());
    if (next === null) return;
    this.snapshot = next;
    this.announce(next);
  }

  private dropWatchers(): void {
    this.generation++;
    this.watchCheck.stop();
    this.watchConfirm.stop();
    const old = this.watchers;
    this.watchers = [];
    for (const w of old) void w.cancel().catch(() => undefined);
  }

  // ---- a watch cancelled by etcd ----

  /**
   * etcd cancelled a watch: its start revision was compacted away while it lagged (etcd's
   * reason is not passed on by the client, so every cancellation is handled alike): re-read
   * everything, watch from there.
   */
  private cancelled(err: Error): void {
    this.relist('a watch etcd cancelled', 'etcd cancelled the watch (compaction); re-reading the datastore', { event: 'watchCompacted', etcdRevision: this.appliedRevision, error: errorMessage(err) });
  }

  /** Drops the watch (with `newClient`, the client too) and re-reads everything, not as an outage (one warning). */
  private relist(cause: string, message: string, fields: Record<string, unknown>, newClient = false): void {
    if (this.state !== 'watching') return;
    this.state = 'lost';
    this.relistCause = cause;
    this.relistFailures = 0;
    this.dropWatchers();
    this.logger?.warn(message, fields);
    if (newClient) {
      // Soon, but a creation stuck again backs off (0.25 s … 5 s; reset once all are confirmed).
      this.connection.reset();
      this.scheduleReconnect(false);
      return;
    }
    this.backoffMs = BACKOFF_MIN_MS;
    void this.reconnect(false);
  }

  // ---- a watch etcd moved past a compaction without cancelling it ----

  private stalled(position: number): void {
    if (this.state === 'watching') this.watchStalls++;
    this.relist('a stalled watch', 'etcd compacted past the watch\'s position without cancelling it (events may be missing); re-reading the datastore', { event: 'watchStalled', watchPosition: position, etcdRevision: this.appliedRevision });
  }

  // A watch etcd never confirmed: the client's watch stream is stuck.
  private unconfirmed(reason: string): void {
    if (this.state === 'watching') this.watchStalls++;
    this.relist('a watch etcd did not confirm', `${reason}; replacing the etcd client and re-reading the datastore`, { event: 'watchUnconfirmed', etcdRevision: this.appliedRevision }, true);
  }

  // ---- connection loss ----

  private lost(err: Error): void {
    if (this.state !== 'watching') return;
    this.state = 'lost';
    this.dropWatchers();
    const e = new DatastoreError('ERR_DATASTORE_DISCONNECTED', `etcd ${this.endpoints.join(',')}: connection lost (${errorMessage(err)}); keeping the last snapshot and reconnecting`, { endpoints: this.endpoints });
    this.logger?.warn(e.message, { event: 'datastoreLost' });
    this.problemsInForce.connectionLost(e);
    this.backoffMs = BACKOFF_MIN_MS;
    this.scheduleReconnect();
  }

  /**
   * The re-read after a dropped watch (cancelled, stalled, unconfirmed) failed: tern has no
   * watch and cannot read, so it is the lost-connection problem from now until a re-read
   * succeeds, retried with the reconnect backoff.
   */
  private relistFailed(err: unknown): void {
    const prefix = `etcd ${this.endpoints.join(',')}: `;
    const detail = errorMessage(err).startsWith(prefix) ? errorMessage(err).slice(prefix.length) : errorMessage(err);
    const e = new DatastoreError('ERR_DATASTORE_DISCONNECTED', `${prefix}cannot re-read the datastore after ${this.relistCause} (${detail}); keeping the last snapshot and retrying`, { endpoints: this.endpoints });
    this.logger?.warn(e.message, { event: 'relistFailed' });
    this.problemsInForce.connectionLost(e);
  }

  private scheduleReconnect(reported = true): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.reconnectTimer = this.clock.setTimer(delay, () => {
      this.reconnectTimer = undefined;
      void this.reconnect(reported);
    });
  }

  private async reconnect(reported = true): Promise<void> {
    if (this.state !== 'lost') return;
    let read: { revision: number; kvs: IKeyValue[] };
    try {
      read = await this.readAll();
    } catch (e) {
      if (this.state !== 'lost') return;
      if (!reported && ++this.relistFailures < RELIST_FAILURES_REPORTED) {
        this.logger?.debug('re-read failed; retrying', { event: 'relistRetry', error: errorMessage(e) });
        this.scheduleReconnect(false);
        return;
      }
      if (reported) this.logger?.debug('etcd still unreachable', { event: 'reconnectFailed', error: errorMessage(e) });
      else this.relistFailed(e);
      this.scheduleReconnect();
      return;
    }
    if (this.state !== 'lost') return;
    this.entries = this.decodeAll(read.kvs);
    this.setBase(read.revision);
    this.problemsInForce.reconnected();
    this.logger?.info(reported ? 'etcd reconnected' : 'datastore re-read', { event: reported ? 'datastoreReconnected' : 'datastoreRelisted', etcdRevision: read.revision });
    this.rebuildTimer?.cancel();
    this.publish();
    this.startWatch(read.revision + 1);
    this.problemsInForce.settle();
  }
}
