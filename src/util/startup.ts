// Start-up milestones of this process, for `tern` control method `startup` and the bench:
// wall time since the process started (performance.now(): its origin is the process start)
// and CPU time used (user + system) at each. `code` is taken when this module is evaluated,
// which main.ts makes the first module of the bundle: Node's own boot plus reading and
// compiling the bundle. Nothing here is on a hot path: a mark is taken once. The marks
// 'started' and 'firstSession' are also when the V8 code cache is written (src/runtime).
import { codeCacheMilestone, codeCacheStatus } from '../runtime/code-cache.js';

export interface StartupMark { ms: number; cpuMs: number }

const marks: Record<string, StartupMark> = {};

export function markStartup(name: string): void {
  if (marks[name]) return;
  const c = process.cpuUsage();
  marks[name] = { ms: +performance.now().toFixed(1), cpuMs: +((c.user + c.system) / 1000).toFixed(1) };
  if (name === 'started' || name === 'firstSession') codeCacheMilestone(name);
}

/** codeCache: how this start found the V8 code cache (used, missing, rejected, corrupt); absent when not started through bin/tern's loader. */
export function startupMarks(): { nodeBootMs: number; codeCache?: string; marks: Record<string, StartupMark> } {
  const codeCache = codeCacheStatus();
  return { nodeBootMs: +performance.nodeTiming.bootstrapComplete.toFixed(1), ...(codeCache ? { codeCache } : {}), marks: { ...marks } };
}

markStartup('code');
