// A real etcd (Debian's etcd-server, `etcd` on PATH) for tests, on loopback.
//
// startEtcd(t) picks two free ports (client, peer), makes a unique temp data dir, starts
// etcd, waits until it answers /health, and registers teardown with `t` (kill + remove the
// data dir; also on process exit). stop()/start() take it down and bring it back on the SAME
// ports and data dir (to test reconnection); kill() is the hard variant (SIGKILL).
// With `tls: true` it serves https with a throw-away CA (openssl) and requires client
// certificates; `tls` on the server then names the CA and a client cert/key to use.
//
//   const etcd = await startEtcd(t);
//   const ds = openDatastore(`etcd:${etcd.endpoint}`);
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestLike {
  teardown(fn: () => unknown): void;
  comment?(...args: unknown[]): void;
  passing?(): boolean;
}

export interface EtcdOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Milliseconds to wait for /health (default 20000). */
  startTimeoutMs?: number;
  /** Serve https with client-certificate auth (certificates made with openssl). */
  tls?: boolean;
}

export interface EtcdTlsFiles {
  caFile: string;
  /** A client certificate and key signed by the CA. */
  certFile: string;
  keyFile: string;
}

export interface EtcdServer {
  /** http://host:clientPort (https:// with tls) */
  readonly endpoint: string;
  /** Client-side TLS files when started with `tls: true`. */
  readonly tls?: EtcdTlsFiles;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** True while the process runs. */
  running(): boolean;
  /** Starts it again (same ports, same data dir) and waits for health. */
  start(): Promise<void>;
  /** SIGTERM, then waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for exit. */
  kill(): Promise<void>;
  /** Stops it and deletes the data dir. Idempotent. */
  destroy(): Promise<void>;
  /** The last lines etcd printed. */
  log(): string;
}

/** A TCP port that was free a moment ago (bind :0, read, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<() => void>();
process.once('exit', () => {
  for (const fn of live) fn();
});

export async function startEtcd(t?: TestLike, opts: EtcdOptions = {}): Promise<EtcdServer> {
  const host = opts.host ?? '127.0.0.1';
  const clientPort = await freePort(host);
  let peerPort = await freePort(host);
  while (peerPort === clientPort) peerPort = await freePort(host);
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-etcd-'));
  const certDir = opts.tls ? mkdtempSync(join(tmpdir(), 'tern-etcd-pki-')) : undefined;
  const pki = certDir ? makePki(certDir, host) : undefined;
  const endpoint = `${pki ? 'https' : 'http'}://${host}:${clientPort}`;
  const peerUrl = `http://${host}:${peerPort}`;
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output: string[] = [];
  let destroyed = false;

  const killSync = (): void => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  live.add(killSync);

  const server: EtcdServer = {
    endpoint,
    clientPort,
    peerPort,
    dataDir,
    ...(pki ? { tls: pki.client } : {}),
    running: () => !!proc && proc.exitCode === null && proc.signalCode === null,
    async start() {
      if (server.running()) return;
      output = [];
      const p = spawn('etcd', [
        '--name', 'default',
        '--data-dir', dataDir,
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', `default=${peerUrl}`,
        '--log-level', 'warn',
        ...(pki ? ['--cert-file', pki.serverCert, '--key-file', pki.serverKey, '--trusted-ca-file', pki.client.caFile, '--client-cert-auth'] : []),
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      const keep = (b: Buffer): void => {
        output.push(...b.toString().split('\n').filter((l) => l !== ''));
        if (output.length > 200) output = output.slice(-100);
      };
      p.stdout?.on('data', keep);
      p.stderr?.on('data', keep);
      exited = new Promise((resolve) => p.once('exit', () => resolve()));
      await waitHealthy(endpoint, pki?.client, opts.startTimeoutMs ?? 20_000, () => server.running(), () => output.slice(-20).join('\n'));
    },
    async stop() {
      if (!server.running()) return;
      proc?.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (!server.running()) return;
      proc?.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await server.kill();
      live.delete(killSync);
      rmSync(dataDir, { recursive: true, force: true });
      if (certDir) rmSync(certDir, { recursive: true, force: true });
    },
    log: () => output.slice(-40).join('\n'),
  };

  t?.teardown(async () => {
    if (t.passing && !t.passing() && t.comment) t.comment(`etcd log (last lines):\n${server.log()}`);
    await server.destroy();
  });
  try {
    await server.start();
  } catch (e) {
    await server.destroy();
    throw e;
  }
  return server;
}

/** A CA, a server certificate for `host` and a client certificate, all P-256, valid 1 day. */
function makePki(dir: string, host: string): { serverCert: string; serverKey: string; client: EtcdTlsFiles } {
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=tern-test-ca');
  const sign = (name: string, ext: string): void => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '1', '-extfile', f(`${name}.ext`));
  };
  sign('server', `subjectAltName=IP:${host}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  sign('client', 'extendedKeyUsage=clientAuth\n');
  return { serverCert: f('server.crt'), serverKey: f('server.key'), client: { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') } };
}

/** GET /health (over https with the client certificate when `tls` is given). */
function health(endpoint: string, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const url = `${endpoint}/health`;
    const done = (ok: boolean): void => resolve(ok);
    const onRes = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
    };
    const req = tls
      ? httpsRequest(url, { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), timeout: 1000 }, onRes)
      : httpRequest(url, { timeout: 1000 }, onRes);
    req.on('error', () => done(false));
    req.on('timeout', () => { req.destroy(); done(false); });
    req.end();
  });
}

async function waitHealthy(endpoint: string, tls: EtcdTlsFiles | undefined, timeoutMs: number, alive: () => boolean, log: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`etcd exited during startup:\n${log()}`);
    if (await health(endpoint, tls)) return;
    if (Date.now() > end) throw new Error(`etcd at ${endpoint} not healthy after ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
