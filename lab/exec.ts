// Commands and polling for the lab: run a program with a timeout and a clear error, and wait
// for a condition with the last value or error quoted when it times out.
import { execFile } from 'node:child_process';

export interface ExecResult { stdout: string; stderr: string }
export interface ExecOptions { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean }
export interface WaitOptions { timeoutMs?: number; intervalMs?: number; what?: string }

export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, {
      timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      if (err && !opts.allowFail) {
        const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
        const why = (err as { killed?: boolean }).killed ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : `exit ${String(code)}`;
        reject(new Error(`\`${[cmd, ...args].join(' ')}\` failed (${why}): ${stderr.trim() || stdout.trim() || err.message}`));
      } else resolve({ stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Polls `fn` until it returns a truthy value (returned) or the timeout expires. Errors thrown
 *  by `fn` count as "not yet"; the last one is quoted in the timeout error. */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NoInfer<NonNullable<T>>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) { lastErr = err; }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = lastErr !== undefined
    ? `; last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`
    : `; last value: ${short(last)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${detail}`);
}

function short(v: unknown): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

export { run as execCommand };
