// File datastore: one multi-document YAML (or JSON) file of Calico v3 resources, and the
// v1 Secrets their password secretKeyRefs name (secret.ts).
//
// Watching. Both the file and its directory are watched: the file watch sees in-place
// writes, the directory watch sees the file replaced by rename (write tmp + mv, as editors
// and kubectl-style tools do, which leaves the file watch on the old inode) and re-creation.
// A file replaced by rename (the directory sees the name arrive) is complete when the event
// comes: it is read at once, so a change reaches the daemon in the loop pass after the rename,
// and the file watch moves to the new inode then. Any other event (an in-place write, which
// may still be under way) waits for a quiet period (debounce), and every such burst ends with
// that quiet-period read; a rename's read is followed by one only when it did not get the
// file (unreadable, or gone). The file watch is re-armed only when it may point at a dead
// inode: after a rename or removal seen by either watch, or when none is open. A read whose text equals the
// last one costs a string comparison; a changed text is re-validated piece by piece
// (file-content.ts: only documents whose text changed are decoded and validated again).
//
// Invariants
// - After load() the snapshot only moves to a fully valid file content. An invalid edit
//   keeps the last good snapshot and is reported once (per distinct bad text, and again
//   when the file comes back with it after being missing) via onError; problems() holds the
//   last problem reported until onRecovered.
// - onChange never fires twice for equal content (comment-only edits, our own writes seen
//   again by the watcher).
// - apply()/delete() write the whole file atomically (tmp in the same directory + rename),
//   keep untouched documents byte for byte, and never write a file that would not load.
//   They are serialised with each other and with reloads.
// fs.promises is Node's lazily loaded fs/promises (with its readline helpers): only the
// edits (apply, delete, list) use it, so a daemon's start does not load it.
import { promises as fsp, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { nodeCrypto } from '../util/crypto.js';
import type { TimerHandle } from '../util/clock.js';
import { ConfigError, DatastoreError } from '../util/errors.js';
import { DatastoreBase, type Datastore, type DatastoreOptions, type DatastorePosition } from './datastore.js';
import { buildSnapshot } from './snapshot.js';
import { NAMESPACED, type Resource, type ResourceKind, type Snapshot } from '../model/types.js';
import { parseFileContent, resourceKey, validateResource, type FileContent } from './validate.js';
import { FileContentReader } from './file-content.js';
import { mergeResources, removeResource } from './yaml-edit.js';

export class FileDatastore extends DatastoreBase implements Datastore {
  readonly kind = 'file' as const;
  private readonly absPath: string;
  private snapshot: Snapshot | undefined;
  private lastText: string | undefined;
  private lastBadText: string | undefined;
  private missingReported = false;
  private emptyPending = false;
  private fileWatcher: FSWatcher | undefined;
  private dirWatcher: FSWatcher | undefined;
  private timer: TimerHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The file watch may be on a replaced or removed inode: re-armed at the next read. */
  private fileWatchStale = false;
  private readonly reader: FileContentReader;

  /** `path` is also the name used in error messages. */
  constructor(readonly path: string, opts: DatastoreOptions = {}) {
    super(opts.logger?.child({ component: 'datastore', datastore: 'file', path }), opts);
    this.absPath = resolve(path);
    this.reader = new FileContentReader(path, opts.affinitiesOf);
  }


  async load(): Promise<Snapshot> {
    const text = this.readTextNow(); // at start nothing else waits on the loop; no thread-pool round trips
    if (text === undefined) {
      throw new DatastoreError('ERR_DATASTORE_FILE_MISSING', `${this.path}: no such file`, { path: this.path });
    }
    const content = this.reader.read(text); // ConfigError: refuse to start
    this.lastText = text;
    this.snapshot = buildSnapshot(content.resources, this.counter.next(), content.secrets);
    this.startWatching();
    this.logger?.info('datastore loaded', { event: 'datastoreLoaded', resources: content.resources.length, secrets: content.secrets.length });
    return this.snapshot;
  }

  async apply(resources: Resource[]): Promise<void> {
    const valid = resources.map((r, i) => validateResource(r, { document: i + 1 }));
    await this.serial(async () => {
      const text = (await this.readText()) ?? '';
      await this.writeAndAdopt(mergeResources(text, valid, this.path));
    });
  }

  async delete(kind: ResourceKind, name: string, namespace?: string): Promise<boolean> {
    const ns = NAMESPACED.has(kind) ? namespace ?? 'default' : undefined;
    const key = resourceKey({ kind, metadata: { name, namespace: ns } });
    return this.serial(async () => {
      const text = await this.readText();
      if (text === undefined) return false;
      const edit = removeResource(text, key, this.path);
      if (!edit.removed) return false;
      await this.writeAndAdopt(edit.text);
      return true;
    });
  }

  async list(kind: ResourceKind, name?: string, namespace?: string): Promise<Resource[]> {
    const text = await this.readText();
    if (text === undefined) return [];
    const all = parseFileContent(text, this.path).resources.filter((r) => r.kind === kind);
    return all.filter((r) => (name === undefined || r.metadata.name === name) && (namespace === undefined || r.metadata.namespace === namespace));
  }

  position(): DatastorePosition {
    return { kind: 'file' };
  }

  /** The current snapshot (after load()). */
  current(): Snapshot | undefined {
    return this.snapshot;
  }

  async close(): Promise<void> {
    this.listeners.closed = true;
    this.timer?.cancel();
    this.fileWatcher?.close();
    this.dirWatcher?.close();
    this.fileWatcher = this.dirWatcher = undefined;
    await this.queue.catch(() => undefined);
  }

  // ---- internals ----

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readText(): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.absPath, 'utf8');
    } catch (e) {
      return this.readFailed(e);
    }
  }

  /** readText without the thread-pool round trips (open, stat, read, close): the first load's and a watch event's read. */
  private readTextNow(): string | undefined {
    try {
      return readFileSync(this.absPath, 'utf8');
    } catch (e) {
      return this.readFailed(e);
    }
  }

  private readFailed(e: unknown): undefined {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DatastoreError('ERR_DATASTORE_FILE_UNREADABLE', `${this.path}: ${(e as Error).message}`, { path: this.path });
  }

  /** Validates the new text, writes it atomically, and makes it the current state. */
  private async writeAndAdopt(text: string): Promise<void> {
    const content = this.reader.read(text); // never write a file that would not load
    const dir = dirname(this.absPath);
    await fsp.mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.absPath)}.tern-${process.pid}-${nodeCrypto().randomBytes(4).toString('hex')}.tmp`);
    try {
      await fsp.writeFile(tmp, text, { encoding: 'utf8', flush: true });
      await fsp.rename(tmp, this.absPath);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw new DatastoreError('ERR_DATASTORE_FILE_WRITE', `${this.path}: cannot write: ${(e as Error).message}`, { path: this.path });
    }
    this.adopt(text, content);
    if (this.dirWatcher) this.watchFile();
  }

  private adopt(text: string, content: FileContent): void {
    this.lastText = text;
    this.lastBadText = undefined;
    if (!this.snapshot) return; // not loaded yet: load() will read it
    const next = this.counter.changed(this.snapshot, content.resources, content.secrets);
    if (next === null) return;
    this.snapshot = next;
    this.announce(next);
  }

  private startWatching(): void {
    if (this.dirWatcher) return;
    const base = basename(this.absPath);
    try {
      this.dirWatcher = watch(dirname(this.absPath), { persistent: false }, (event, filename) => {
        if (filename !== null && filename !== base) return;
        if (event === 'rename' && filename === base) this.reloadNow();
        else this.schedule();
      });
      this.dirWatcher.on('error', (e) => this.logger?.warn('directory watch failed', { event: 'watchError', error: e.message }));
    } catch (e) {
      this.logger?.warn('cannot watch directory', { event: 'watchError', error: (e as Error).message });
    }
    this.watchFile();
  }

  /** (Re)watches the file itself; after a rename the old watch points at a dead inode. */
  private watchFile(): void {
    this.fileWatcher?.close();
    this.fileWatcher = undefined;
    try {
      this.fileWatcher = watch(this.absPath, { persistent: false }, (event) => {
        if (event === 'rename') this.fileWatchStale = true;
        this.schedule();
      });
      this.fileWatcher.on('error', () => undefined); // the directory watch still covers us
    } catch {
      // Missing right now (being replaced): the directory watch will see it come back.
    }
  }

  /** The file was replaced by rename: read it in this loop pass; the quiet-period read only if it was not read. */
  private reloadNow(): void {
    if (this.listeners.closed) return;
    this.fileWatchStale = true;
    void this.serial(async () => {
      if (!(await this.reload())) this.schedule();
    });
  }

  private schedule(): void {
    if (this.listeners.closed) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimer(this.debounceMs, () => {
      this.timer = undefined;
      void this.serial(() => this.reload());
    });
  }

  /** Reads the file and adopts a valid changed text; false when the file could not be read. */
  private async reload(): Promise<boolean> {
    if (this.listeners.closed) return true;
    let text: string | undefined;
    try {
      text = this.readTextNow();
    } catch (e) {
      this.listeners.emitError(e as DatastoreError);
      return false;
    }
    if (this.fileWatchStale || !this.fileWatcher || !this.dirWatcher) {
      this.fileWatchStale = false;
      this.watchFile();
    }
    if (text === undefined) {
      if (!this.missingReported) {
        this.missingReported = true;
        this.lastBadText = undefined; // back with the same invalid text: that is the problem again
        this.listeners.emitError(new DatastoreError('ERR_DATASTORE_FILE_MISSING', `${this.path}: file disappeared; keeping the last good configuration`, { path: this.path }));
      }
      return false;
    }
    this.missingReported = false;
    if (text === this.lastText) {
      this.lastBadText = undefined; // back to the good text: the same mistake again is news
      this.emptyPending = false;
      this.listeners.emitRecovered();
      return true;
    }
    // A file that just became empty is most likely being rewritten in place (truncate, then
    // write): look again after one more quiet period before withdrawing everything.
    if (text.trim() === '' && !this.emptyPending && (this.lastText ?? '').trim() !== '') {
      this.emptyPending = true;
      this.schedule();
      return true;
    }
    this.emptyPending = false;
    let content: FileContent;
    try {
      content = this.reader.read(text);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (text !== this.lastBadText) {
        this.lastBadText = text;
        this.logger?.warn('invalid edit ignored; keeping the last good configuration', { event: 'configInvalid', error: e.message });
        this.listeners.emitError(e);
      }
      return true;
    }
    this.adopt(text, content);
    this.listeners.emitRecovered();
    return true;
  }
}
