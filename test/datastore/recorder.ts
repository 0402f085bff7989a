// Test helper: records a datastore's onChange/onError calls in order and waits for them;
// waitFor polls any condition.
import type { Datastore, Snapshot } from '../../src/datastore/index.js';

export interface Recorder {
  readonly changes: Snapshot[];
  readonly errors: Error[];
  /** Resolves with the n-th change (1-based); rejects after `timeoutMs` (default 10 s). */
  change(n: number, timeoutMs?: number): Promise<Snapshot>;
  error(n: number, timeoutMs?: number): Promise<Error>;
}

export function recorder(ds: Datastore): Recorder {
  const changes: Snapshot[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  ds.onChange((s) => { changes.push(s); wake?.(); });
  ds.onError((e) => { errors.push(e); wake?.(); });
  const wait = async <T>(list: T[], n: number, what: string, timeoutMs = 10_000): Promise<T> => {
    const end = Date.now() + timeoutMs;
    while (list.length < n) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} #${n}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 200); });
    }
    return list[n - 1]!;
  };
  return {
    changes, errors,
    change: (n: number, ms?: number) => wait(changes, n, 'change', ms),
    error: (n: number, ms?: number) => wait(errors, n, 'error', ms),
  };
}

/** Polls `fn` every 100 ms until it returns a value; rejects after `timeoutMs`. */
export async function waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
