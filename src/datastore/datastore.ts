// The Datastore contract both backends (file, etcd) implement. See index.ts for invariants.
import type { Clock } from '../util/clock.js';
import type { ConfigError, DatastoreError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { Resource, ResourceKind, Snapshot } from './types.js';

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
   * The problem reported through onError is over (etcd reconnected, the file is valid and
   * present again), whether or not a new snapshot follows. Called once per recovery.
   */
  onRecovered(cb: () => void): void;
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
}

export interface DatastoreOptions {
  logger?: Logger;
  clock?: Clock;
  /** Quiet period before a burst of changes becomes one snapshot (default 75 ms). */
  debounceMs?: number;
  /** etcd: bound on load() and on each request (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Environment to read DATASTORE_TYPE / ETCD_* from (default process.env). */
  env?: Record<string, string | undefined>;
}

type ChangeCb = (s: Snapshot) => void;
type ErrorCb = (e: DatastoreError | ConfigError) => void;

/** Callback lists shared by the backends; a throwing callback is logged, not propagated. */
export class Listeners {
  private readonly change: ChangeCb[] = [];
  private readonly error: ErrorCb[] = [];
  private readonly recovered: (() => void)[] = [];
  /** An error was reported and no recovery since. */
  private failing = false;
  closed = false;

  constructor(private readonly logger: Logger | undefined) {}

  onChange(cb: ChangeCb): void {
    this.change.push(cb);
  }

  onError(cb: ErrorCb): void {
    this.error.push(cb);
  }

  onRecovered(cb: () => void): void {
    this.recovered.push(cb);
  }

  /** Tells the recovered listeners, once, that the last reported problem is over. */
  emitRecovered(): void {
    if (this.closed || !this.failing) return;
    this.failing = false;
    for (const cb of this.recovered) {
      try {
        cb();
      } catch (e) {
        this.logger?.error('datastore recovered listener threw', { event: 'listenerError', error: (e as Error).message });
      }
    }
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
    this.failing = true;
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

  constructor(protected readonly logger: Logger | undefined) {
    this.listeners = new Listeners(logger);
  }

  onChange(cb: ChangeCb): void {
    this.listeners.onChange(cb);
  }

  onError(cb: ErrorCb): void {
    this.listeners.onError(cb);
  }

  onRecovered(cb: () => void): void {
    this.listeners.onRecovered(cb);
  }
}
