// Parent side of the notification socket: runs netlink-watch-child.ts, reads its framed
// datagrams, and restarts it when it dies (socket overrun), reporting the loss so the caller
// dumps again. The child is started with this process's own Node options, so it runs from
// the sources (tsx) or from the build alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESTART_MS = [100, 1000, 5000] as const;
const EMPTY = Buffer.alloc(0);

function childPath(): string {
  const js = fileURLToPath(new URL('./netlink-watch-child.js', import.meta.url));
  return existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

export class NotificationWatcher {
  private child: ChildProcess | undefined;
  private pending: Buffer = EMPTY;
  private closed = false;
  private restarts = 0;
  private readyResolve: (() => void) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Resolves when the first child has subscribed. */
  readonly ready: Promise<void>;

  constructor(
    /** One datagram: buf[start, end) (a view into a chunk that is not kept). */
    private readonly onDatagram: (buf: Buffer, start: number, end: number) => void,
    /** Notifications may have been lost; called once the new child has subscribed. */
    private readonly onLost: () => void,
  ) {
    this.ready = new Promise((r) => { this.readyResolve = r; });
    this.start(false);
  }

  private start(isRestart: boolean): void {
    // same loader flags (tsx in development), but never a second debugger on the same port
    const flags = process.execArgv.filter((a) => !a.startsWith('--inspect') && !a.startsWith('--cpu-prof'));
    const child = spawn(process.execPath, [...flags, childPath()], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.pending = EMPTY;
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk, isRestart));
    child.on('exit', () => {
      if (this.child !== child || this.closed) return;
      this.child = undefined;
      const delay = RESTART_MS[Math.min(this.restarts, RESTART_MS.length - 1)]!;
      this.restarts++;
      this.restartTimer = setTimeout(() => this.start(true), delay);
    });
    child.on('error', () => undefined); // 'exit' follows
  }

  private onData(chunk: Buffer, isRestart: boolean): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32LE(off);
      if (buf.length - off < 4 + len) break;
      const start = off + 4;
      off = start + len;
      if (len === 0) {
        // subscribed: from now on nothing is missed
        if (this.readyResolve) { this.readyResolve(); this.readyResolve = undefined; }
        if (isRestart) this.onLost();
        continue;
      }
      this.restarts = 0;
      this.onDatagram(buf, start, off);
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : EMPTY;
  }

  close(): void {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.stdin?.end();
    this.child?.kill();
    this.readyResolve?.();
  }
}
