// The control socket: newline-delimited JSON over a Unix socket (default
// /var/run/tern/tern.sock). One request per line, {"method": "status"}; one reply per line,
// {"ok": true, "result": …} or {"ok": false, "error": {"code", "message"}}.
// Handlers are one-line delegations to the daemon; nothing here knows BGP.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { DaemonError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export const DEFAULT_SOCKET = '/var/run/tern/tern.sock';

export type Handler = (params: Record<string, unknown>) => unknown | Promise<unknown>;

export class ControlServer {
  private server: net.Server | null = null;

  constructor(
    private readonly socketPath: string,
    private readonly handlers: Record<string, Handler>,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true });
    // A socket file left by a crashed daemon is removed; a live one is an error.
    if (fs.existsSync(this.socketPath)) {
      const alive = await new Promise<boolean>((resolve) => {
        const c = net.connect(this.socketPath, () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
      });
      if (alive) throw new DaemonError('ERR_SOCKET_IN_USE', `another daemon is listening on ${this.socketPath}`);
      fs.unlinkSync(this.socketPath);
    }
    this.server = net.createServer((conn) => this.serve(conn));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o660);
  }

  private serve(conn: net.Socket): void {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 1 << 20) { conn.destroy(); return; }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.answer(line).then((reply) => conn.write(JSON.stringify(reply) + '\n'));
      }
    });
  }

  private async answer(line: string): Promise<unknown> {
    let method = '';
    try {
      const req = JSON.parse(line) as { method?: unknown; params?: unknown };
      method = typeof req.method === 'string' ? req.method : '';
      const handler = this.handlers[method];
      if (!handler) return { ok: false, error: { code: 'ERR_UNKNOWN_METHOD', message: `unknown method "${method}"` } };
      const params = req.params && typeof req.params === 'object' ? (req.params as Record<string, unknown>) : {};
      return { ok: true, result: await handler(params) };
    } catch (err) {
      const code = err instanceof DaemonError ? err.code : 'ERR_INTERNAL';
      // Asked while starting (a probe or a script polling): expected, not worth a warning.
      const level = code === 'ERR_STARTING' ? 'debug' : 'warn';
      this.log[level]('control request failed', { event: 'controlError', method, error: errorMessage(err) });
      return { ok: false, error: { code, message: errorMessage(err) } };
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    try { fs.unlinkSync(this.socketPath); } catch { /* already gone */ }
  }
}

/** One request to a running daemon. */
export async function callDaemon<T>(socketPath: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const conn = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => { conn.destroy(); reject(new DaemonError('ERR_SOCKET_TIMEOUT', `no answer from ${socketPath} within ${timeoutMs} ms`)); }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify({ method, params }) + '\n'));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? ' (is `tern daemon` running? use --socket to point at its socket)' : '';
      reject(new DaemonError('ERR_SOCKET_CONNECT', `cannot reach the daemon at ${socketPath}: ${err.code ?? err.message}${hint}`));
    });
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      conn.end();
      const reply = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: T; error?: { code: string; message: string } };
      if (reply.ok) resolve(reply.result as T);
      else reject(new DaemonError(reply.error?.code ?? 'ERR_REMOTE', reply.error?.message ?? 'request failed'));
    });
  });
}
