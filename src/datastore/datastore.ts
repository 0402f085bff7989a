// The Datastore contract both backends (file, etcd) implement. See index.ts for invariants.
import { systemClock, type Clock } from '../util/clock.js';
import type { ConfigError, DatastoreError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { Resource, ResourceKind, Snapshot } from '../model/types.js';
import { SnapshotCounter } from './snapshot.js';

export interface Datastore {
  readonly kind: 'file' | 'etcd';
  /**
   * Reads everything once and starts watching. Throws ConfigError (file: invalid content)
   * or DatastoreError (unreadable file, unreachable etcd) — the daemon refuses to start.
   */
  load(): Promise<Snapshot>;
  /** Called with each new snapshot after load(); never with one of equal content. */
  onChange(cb: (s: Snapshot) => void): void;
  /** Problems after load(): an invalid edit, a lost etcd. The last good snapshot stays. */
  onError(cb: (e: DatastoreError | ConfigError) => void): void;
  /**
   * Every problem reported through onError is over (etcd reconnected and holds no invalid
   * value at a key this datastore reads; the file is valid and present again), whether or
   * not a new snapshot follows. Called once per recovery.
   */
  onRecovered(cb: () => void): void;
  /**
   * The problems reported through onError that are still in force (what `tern status`
   * lists): empty after load() with nothing invalid, and whenever onRecovered was the last
   * call. File: the last one reported. etcd: a lost connection until it is re-established,
   * and each key's invalid value while the key holds it, so reconnecting clears the one
   * and fixing or deleting the key the other.
   */
  problems(): readonly (DatastoreError | ConfigError)[];
  /** Creates or replaces resources (by kind, namespace, name); validates first. */
  apply(resources: Resource[]): Promise<void>;
  /** Removes one resource; false when it did not exist. */
  delete(kind: ResourceKind, name: string, namespace?: string): Promise<boolean>;
  /** Resources of a kind as stored now, optionally only the one named (and namespaced). */
  list(kind: ResourceKind, name?: string, namespace?: string): Promise<Resource[]>;
  /** Stops watching and releases connections; callbacks are not called afterwards. */
  close(): Promise<void>;
  /**
   * Where the applied state stands: for etcd, the store revision every applied event is at
   * or below (the snapshot's revision, raised by each applied watch event).
   */
  position(): DatastorePosition;
}

export interface DatastorePosition {
  readonly kind: 'file' | 'etcd';
  /** etcd only: the revision of the state in use (0 before load()). */
  readonly etcdRevision?: number;
  /** etcd only: watches found stalled (behind a compaction, or never confirmed by etcd) and re-read since open. */
  readonly watchStalls?: number;
}

export interface DatastoreOptions {
  logger?: Logger;
  clock?: Clock;
  /** Quiet period before a burst of changes becomes one snapshot (default 75 ms). */
  debounceMs?: number;
  /** etcd: bound on load() and on each request (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Environment to read DATASTORE_TYPE / ETCD_* from (default: the process's, through src/settings). */
  env?: Record<string, string | undefined>;
  /**
   * etcd: read and watch the block affinities of this node only (its own
   * `/calico/ipam/v2/host/<node>/` keys, as calico-node's confd watches them), so that other
   * nodes' blocks coming and going wake nothing here. The daemon sets it: nothing it derives
   * reads another node's affinity. File: the other nodes' BlockAffinity documents in the file
   * are left out of every snapshot, unvalidated (file-content.ts).
   */
  affinitiesOf?: string;
}

type ChangeCb = (s: Snapshot) => void;
type ErrorCb = (e: DatastoreError | ConfigError) => void;

/** Callback lists shared by the backends; a throwing callback is logged, not propagated. */
export class Listeners {
  readonly change: ChangeCb[] = [];
  readonly error: ErrorCb[] = [];
  readonly recovered: (() => void)[] = [];
  /** The last error reported, while no recovery followed it. */
  private failing: DatastoreError | ConfigError | undefined;
  closed = false;

  constructor(private readonly logger: Logger | undefined) {}

  /** Tells the recovered listeners, once, that the last reported problem is over. */
  emitRecovered(): void {
    if (this.closed || !this.failing) return;
    this.failing = undefined;
    for (const cb of this.recovered) {
      try {
        cb();
      } catch (e) {
        this.logger?.error('datastore recovered listener threw', { event: 'listenerError', error: (e as Error).message });
      }
    }
  }

  /** The last error reported, if no recovery followed it. */
  get problem(): DatastoreError | ConfigError | undefined {
    return this.failing;
  }

  emitChange(s: Snapshot): void {
    if (this.closed) return;
    for (const cb of this.change) {
      try {
        cb(s);
      } catch (e) {
        this.logger?.error('datastore change listener threw', { event: 'listenerError', error: (e as Error).message });
      }
    }
  }

  emitError(err: DatastoreError | ConfigError): void {
    if (this.closed) return;
    this.failing = err;
    if (this.error.length === 0) this.logger?.error(err.message, { event: 'datastoreError', code: err.code });
    for (const cb of this.error) {
      try {
        cb(err);
      } catch (e) {
        this.logger?.error('datastore error listener threw', { event: 'listenerError', error: (e as Error).message });
      }
    }
  }
}

/**
 * What both backends share: the logger and the callback lists behind onChange, onError and
 * onRecovered.
 */
export abstract class DatastoreBase {
  protected readonly listeners: Listeners;
  protected readonly clock: Clock;
  /** Quiet time before a burst of changes becomes one snapshot. */
  protected readonly debounceMs: number;
  protected readonly counter = new SnapshotCounter();

  constructor(protected readonly logger: Logger | undefined, opts: DatastoreOptions) {
    this.listeners = new Listeners(logger);
    this.clock = opts.clock ?? systemClock;
    this.debounceMs = opts.debounceMs ?? 75;
  }

  onChange(cb: ChangeCb): void {
    this.listeners.change.push(cb);
  }

  onError(cb: ErrorCb): void {
    this.listeners.error.push(cb);
  }

  onRecovered(cb: () => void): void {
    this.listeners.recovered.push(cb);
  }

  /** The last problem reported, until a recovery (the file backend's one problem at a time). */
  problems(): readonly (DatastoreError | ConfigError)[] {
    const p = this.listeners.problem;
    return p ? [p] : [];
  }

  /** Logs and hands a new snapshot to the change listeners. */
  protected announce(s: Snapshot): void {
    this.logger?.info('datastore changed', { event: 'datastoreChanged', revision: s.revision });
    this.listeners.emitChange(s);
  }
}
