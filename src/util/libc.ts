// libc through koffi (an FFI with prebuilt binaries; no compiler at install), for the few
// system calls Node.js has no API for: setsockopt options (TCP MD5, GTSM, netlink buffer
// sizes), the netlink notification socket, and malloc_trim after a burst.
//
// Invariants
// - Loaded on first use and once per process: a daemon without MD5/GTSM/TTL peers and
//   without a FIB, and the CLI, never load koffi.
// - A load failure is remembered and reported by `libcUnavailable()` (callers decide whether
//   that is fatal); `libc()` throws it.
// - Linux only: the declarations are glibc's (libc.so.6).
import { loadKoffi } from '../runtime/koffi.js';

/** The koffi calls tern uses (a subset of `typeof import('koffi')`). */
export interface Koffi {
  load(name: string): KoffiLib;
  errno(): number;
  /** Declares a C struct type by name (usable in later signatures); returns its type. */
  struct(name: string, def: Record<string, string>): unknown;
  sizeof(type: unknown): number;
}

export interface KoffiLib {
  // koffi's own typing: a declared C function, callable with JavaScript values.
  func(signature: string): KoffiFunction;
}

export type KoffiFunction = ((...args: unknown[]) => number) & {
  async(...args: unknown[]): void;
};

/** libc functions shared by every user, plus the loaded library for declaring others. */
export interface Libc {
  readonly koffi: Koffi;
  readonly lib: KoffiLib;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  /** errno of the last call made through koffi on this thread. */
  errno(): number;
}

let loaded: Libc | null | undefined;
let loadError = '';

function load(): Libc | null {
  if (loaded !== undefined) return loaded;
  try {
    if (process.platform !== 'linux') throw new Error(`needs Linux (this is ${process.platform})`);
    const koffi = loadKoffi() as Koffi; // its native module directly (src/runtime/koffi.ts)
    const lib = koffi.load('libc.so.6');
    const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)');
    const socket = lib.func('int socket(int domain, int type, int protocol)');
    const close = lib.func('int close(int fd)');
    loaded = {
      koffi,
      lib,
      setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len),
      socket: (d, t, p) => socket(d, t, p),
      close: (fd) => close(fd),
      errno: () => koffi.errno(),
    };
  } catch (err) {
    loadError = err instanceof Error ? err.message : String(err);
    loaded = null;
  }
  return loaded;
}

/** Why libc cannot be called on this host (koffi missing, not Linux), or undefined when it can. */
export function libcUnavailable(): string | undefined {
  return load() === null ? `koffi: ${loadError}` : undefined;
}

/** The loaded libc; throws when it cannot be loaded. */
export function libc(): Libc {
  const l = load();
  if (!l) throw new Error(`libc unavailable (koffi: ${loadError})`);
  return l;
}

let trim: KoffiFunction | null | undefined;

/**
 * glibc's malloc_trim(0): returns the free memory of every malloc arena to the kernel (the
 * top of each heap, and whole free pages inside it). False when libc cannot be called.
 */
export function mallocTrim(): boolean {
  if (trim === undefined) {
    const l = load();
    try {
      trim = l ? l.lib.func('int malloc_trim(size_t pad)') : null;
    } catch {
      trim = null; // a libc without it (not glibc): nothing to give back this way
    }
  }
  if (!trim) return false;
  trim(0);
  return true;
}
