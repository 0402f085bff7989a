// A secrets directory laid out as Kubernetes mounts a Secret volume: DIR/<secret name>/<key>,
// one file per key holding the value (a trailing newline is kept: the file is the value).
// Works with any datastore; a password secretKeyRef {name, key} reads DIR/name/key.
//
// Invariants
// - Read whole at start and re-read every `pollMs`; a change of any value calls onChange
//   once (Kubernetes replaces the files by swapping a `..data` symlink, which file watches
//   miss; polling a few small files does not).
// - Names starting with '.' (the volume's `..data`, `..2024_…` directories) are not secrets.
// - Values never reach logs: messages name the directory, secret and key only.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** Files larger than this are not secrets (a mistaken mount); ignored with a warning. */
const MAX_VALUE_BYTES = 64 * 1024;

export interface SecretsDirectoryOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Re-read period (default 2000 ms). */
  readonly pollMs?: number;
}

type Tree = Map<string, Map<string, string>>;

export class SecretsDirectory {
  private tree: Tree = new Map();
  private fingerprint = '';
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly warned = new Set<string>();

  constructor(readonly dir: string, private readonly opts: SecretsDirectoryOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.pollMs = opts.pollMs ?? 2000;
    this.read();
  }

  /** The value of `key` in secret `name`, or why there is none. */
  lookup(name: string, key: string): { value: string } | { missing: string } {
    const secret = this.tree.get(name);
    if (!secret) return { missing: `no directory ${join(this.dir, name)}` };
    const value = secret.get(key);
    if (value === undefined) return { missing: `no file ${join(this.dir, name, key)}` };
    return { value };
  }

  /** Starts polling; `onChange` runs after any value, key or secret changed. */
  watch(onChange: () => void): void {
    const tick = () => {
      this.timer = this.clock.setTimer(this.pollMs, () => {
        if (this.read()) {
          this.opts.logger?.info('secrets directory changed', { event: 'secretsChanged', dir: this.dir });
          onChange();
        }
        tick();
      });
    };
    this.timer?.cancel();
    tick();
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Re-reads the directory; true when the content changed. */
  private read(): boolean {
    const tree: Tree = new Map();
    for (const name of this.entries(this.dir)) {
      const secretDir = join(this.dir, name);
      if (!this.isDir(secretDir)) continue;
      const keys = new Map<string, string>();
      for (const key of this.entries(secretDir)) {
        const file = join(secretDir, key);
        try {
          const st = statSync(file);
          if (!st.isFile()) continue;
          if (st.size > MAX_VALUE_BYTES) {
            this.warnOnce(file, 'secret file too large; ignored');
            continue;
          }
          keys.set(key, readFileSync(file, 'utf8'));
        } catch (err) {
          this.warnOnce(file, `cannot read secret file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
        }
      }
      tree.set(name, keys);
    }
    // Compared in memory only; never logged.
    const fingerprint = JSON.stringify([...tree].map(([n, k]) => [n, [...k].sort()]).sort());
    const changed = fingerprint !== this.fingerprint;
    this.tree = tree;
    this.fingerprint = fingerprint;
    return changed;
  }

  private entries(dir: string): string[] {
    try {
      return readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      this.warnOnce(dir, `cannot read the secrets directory: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return [];
    }
  }

  private isDir(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  private warnOnce(path: string, message: string): void {
    if (this.warned.has(path + message)) return;
    this.warned.add(path + message);
    this.opts.logger?.warn(message, { event: 'secretsDirProblem', path });
  }
}
