// Start-up milestones of this process, for `tern` control method `startup` and the bench:
// wall time since the process started (performance.now(): its origin is the process start)
// and CPU time used (user + system) at each. `code` is taken when this module is evaluated,
// which main.ts makes the first module of the bundle: Node's own boot plus reading and
// compiling the bundle. Nothing here is on a hot path: a mark is taken once. The marks
// 'started' and 'firstSession' are also when the V8 code cache is written (src/runtime).
import { getHeapSpaceStatistics } from 'node:v8';
import { codeCacheMilestone, codeCacheStatus } from '../runtime/code-cache.js';

export interface StartupMark { ms: number; cpuMs: number }

const marks: Record<string, StartupMark> = {};

export function markStartup(name: string): void {
  if (marks[name]) return;
  const c = process.cpuUsage();
  marks[name] = { ms: +performance.now().toFixed(1), cpuMs: +((c.user + c.system) / 1000).toFixed(1) };
  if (name === 'started' || name === 'firstSession') codeCacheMilestone(name);
}

/** Where this process's memory is now (KiB): V8's heap spaces (physical size), what V8 counts outside them, the process RSS. */
export interface MemoryNow {
  rssKb: number;
  /** Buffers and other memory V8 was told about (process.memoryUsage().external). */
  externalKb: number;
  /** V8 heap space name → physical size. */
  heapSpacesKb: Record<string, number>;
}

function memoryNow(): MemoryNow {
  const kb = (n: number) => Math.round(n / 1024);
  const m = process.memoryUsage();
  const heapSpacesKb: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) heapSpacesKb[s.space_name] = kb(s.physical_space_size);
  return { rssKb: kb(m.rss), externalKb: kb(m.external), heapSpacesKb };
}

/**
 * codeCache: how this start found the V8 code cache (used, missing, rejected, corrupt); absent when not started through bin/tern's loader.
 * cpuMs: CPU used up to this call (the bench reads it at convergence, to the microsecond where /proc counts 10 ms ticks).
 */
export function startupMarks(): { nodeBootMs: number; codeCache?: string; cpuMs: number; memory: MemoryNow; marks: Record<string, StartupMark> } {
  const codeCache = codeCacheStatus();
  const c = process.cpuUsage();
  return {
    nodeBootMs: +performance.nodeTiming.bootstrapComplete.toFixed(1), ...(codeCache ? { codeCache } : {}),
    cpuMs: +((c.user + c.system) / 1000).toFixed(1), memory: memoryNow(), marks: { ...marks },
  };
}

markStartup('code');
