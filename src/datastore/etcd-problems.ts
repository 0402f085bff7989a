// The etcd datastore's problems in force, kept as two separate conditions:
// - the connection: lost (reported once, ERR_DATASTORE_DISCONNECTED) until a full re-read
//   succeeds; a re-read after a watch dropped without an outage (cancelled, stalled or never
//   confirmed by etcd) that fails is this same problem, worded with its cause;
// - invalid values: per key, the value's ConfigError while etcd holds that value at a key
//   the datastore reads. A key's problem ends when the key gets a valid value or is
//   deleted (seen by the watch), or when a full read finds it valid or absent.
// A value is reported through onError once per key and value (the same bad text again,
// also across re-reads, is not news). onRecovered is called when neither condition is left
// (Listeners call it once per recovery): reconnecting alone does not end an invalid value's
// problem, and fixing a key does not end an outage. This is what the file datastore shows
// for one file: its invalid content is an error until the file is valid again.
import type { ConfigError, DatastoreError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { Listeners } from './datastore.js';

export class EtcdProblems {
  private lost: DatastoreError | undefined;
  /** key → the invalid value etcd holds there (as last read) and its error. */
  private invalid = new Map<string, { text: string; error: ConfigError }>();
  /** Keys found invalid by the full read under way (beginRead … endRead). */
  private reading: Set<string> | undefined;

  constructor(private readonly listeners: Listeners, private readonly logger: Logger | undefined) {}

  /** The problems in force: the lost connection first, then invalid values by key. */
  list(): (DatastoreError | ConfigError)[] {
    const keys = [...this.invalid.keys()].sort();
    return [...(this.lost ? [this.lost] : []), ...keys.map((k) => this.invalid.get(k)!.error)];
  }

  /** `key` holds `text`, which did not decode: reported unless this value already was. */
  invalidValue(key: string, text: string, error: ConfigError): void {
    this.reading?.add(key);
    if (this.invalid.get(key)?.text === text) return;
    this.invalid.set(key, { text, error });
    this.logger?.warn('invalid resource in etcd ignored', { event: 'configInvalid', key, error: error.message });
    this.listeners.emitError(error);
  }

  /** `key` holds a valid value, or none: its invalid value's problem is over. */
  cleared(key: string): void {
    this.invalid.delete(key);
  }

  /** A full read of every key the datastore reads begins. */
  beginRead(): void {
    this.reading = new Set();
  }

  /** The full read ended: keys it did not find invalid (valid, or gone) have no problem left. */
  endRead(): void {
    const found = this.reading;
    this.reading = undefined;
    if (!found) return;
    for (const key of [...this.invalid.keys()]) if (!found.has(key)) this.invalid.delete(key);
  }

  connectionLost(error: DatastoreError): void {
    this.lost = error;
    this.listeners.emitError(error);
  }

  /** A full re-read succeeded: the connection is back. */
  reconnected(): void {
    this.lost = undefined;
  }

  /** Calls onRecovered (once per recovery) when no problem is left. */
  settle(): void {
    if (!this.lost && this.invalid.size === 0) this.listeners.emitRecovered();
  }
}
