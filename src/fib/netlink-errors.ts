// The netlink layer's errors: a kernel errno as a KernelError (ERR_FIB_NETLINK_<NAME>), and
// the guard around our handlers of native callbacks (an exception escaping one would abort
// the process): it is counted and reported as a process warning instead.
import { constants as osConstants } from 'node:os';
import { KernelError } from '../util/errors.js';
import type { WriteAnswer } from './kernel.js';

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, n]) => [n, name]),
);

export function kernelErrorFor(errno: number, what: string, details: Record<string, unknown> = {}): KernelError {
  const name = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return new KernelError(`ERR_FIB_NETLINK_${name}`, `${what}: ${name}`, { errno, ...details });
}

let guardErrors = 0;
/** Runs `fn`; an exception is counted and reported on the next tick instead of thrown. */
export function guard(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    guardFailed(e);
  }
}

/** `done` with `err`, on a later turn (a write's answer is never synchronous). */
export function answerLater(done: WriteAnswer, err: Error, prefix: string): void {
  queueMicrotask(() => done(err, prefix));
}

export function guardFailed(e: unknown): void {
  guardErrors++;
  process.emitWarning(`tern fib: netlink handler failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
}

/** Exceptions caught in netlink handlers since start (a bug if not 0). */
export function netlinkHandlerErrors(): number {
  return guardErrors;
}
