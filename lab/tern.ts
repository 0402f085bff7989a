// Runs the real tern daemon (bin/tern, after `npm run build`) inside a lab host and queries
// it through its own CLI: `tern status --json` / `tern routes --json` run inside the same
// namespace against the daemon's control socket. The daemon's log goes to a file in the lab
// dir and is printed (last 200 lines) as test comments when the test fails.
import { writeFileSync } from 'node:fs';
import type { PeerStatusJson, RouteJson, RoutesReply, StatusReply } from '../src/api/types.js';
import type { Lab, ProcHandle } from './netns.js';
import { childEnv, REPO_ROOT, TERN_BIN } from './process.js';

export { REPO_ROOT, TERN_BIN };

export interface TernOptions {
  /** Calico v3 resources as YAML; written to the lab dir and passed as `file:PATH`. */
  datastoreYaml?: string;
  /** A datastore spec (`file:PATH`, `etcd:URL`); wins over datastoreYaml. */
  datastore?: string;
  node: string;
  /** `--ip addr/len` (this node's IPv4 with prefix length). */
  ip?: string;
  ip6?: string;
  /** Control socket; default `<lab dir>/<host>-tern.sock`. */
  socket?: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait until the control socket answers (default true). */
  waitReady?: boolean;
}

export interface TernHandle {
  readonly lab: Lab;
  readonly host: string;
  readonly node: string;
  readonly socket: string;
  readonly datastore: string;
  readonly proc: ProcHandle;
  readonly logFile: string;
  /** Runs `tern <args…>` inside the host's namespace; resolves stdout. */
  cli(...args: string[]): Promise<string>;
  status(): Promise<StatusReply>;
  routes(): Promise<RouteJson[]>;
  /** Waits until the peer at `address` has bgpState `state` (default Established). */
  waitPeer(address: string, state?: string, timeoutMs?: number): Promise<PeerStatusJson>;
  /** waitPeer for each address in turn (each with the full timeout); the peers, in that order. */
  waitPeers(addresses: readonly string[], state?: string, timeoutMs?: number): Promise<PeerStatusJson[]>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Writes a YAML datastore into the lab dir; returns its `file:` spec (share it between nodes). */
export function writeDatastore(lab: Lab, yaml: string, name = 'datastore.yaml'): string {
  const file = lab.path(name);
  writeFileSync(file, yaml);
  return `file:${file}`;
}

export async function startTern(lab: Lab, host: string, opts: TernOptions): Promise<TernHandle> {
  const datastore = opts.datastore
    ?? (opts.datastoreYaml !== undefined ? writeDatastore(lab, opts.datastoreYaml, `${host}-datastore.yaml`) : undefined);
  if (!datastore) throw new Error('startTern: datastore or datastoreYaml is required');
  const socket = opts.socket ?? lab.path(`${host}-tern.sock`);
  const args = [TERN_BIN, 'daemon', '--datastore', datastore, '--node', opts.node, '--socket', socket];
  if (opts.ip) args.push('--ip', opts.ip);
  if (opts.ip6) args.push('--ip6', opts.ip6);
  if (opts.logLevel) args.push('--log-level', opts.logLevel);
  args.push(...(opts.extraArgs ?? []));
  const logFile = lab.path(`${host}-tern.log`);
  const env = childEnv(opts.env);
  // The executable itself, as an operator runs it (its shebang sets Node's options).
  const proc = lab.spawn(host, TERN_BIN, args.slice(1), { logFile, env, cwd: REPO_ROOT, dumpLines: 200 });
  const cli = async (...a: string[]) => (await lab.exec(host, process.execPath, [TERN_BIN, ...a], { env: childEnv() })).stdout;
  const h: TernHandle = {
    lab, host, node: opts.node, socket, datastore, proc, logFile, cli,
    status: async () => JSON.parse(await cli('status', '--json', '--socket', socket)) as StatusReply,
    routes: async () => (JSON.parse(await cli('routes', '--json', '--socket', socket)) as RoutesReply).routes,
    async waitPeer(address, state = 'Established', timeoutMs = 60_000) {
      return lab.waitFor(async () => (await h.status()).peers.find((p) => p.address === address && p.bgpState === state),
        { what: `tern on ${host}: peer ${address} ${state}`, timeoutMs, intervalMs: 250 });
    },
    async waitPeers(addresses, state = 'Established', timeoutMs = 60_000) {
      const out: PeerStatusJson[] = [];
      for (const a of addresses) out.push(await h.waitPeer(a, state, timeoutMs));
      return out;
    },
    stop: (signal: NodeJS.Signals = 'SIGTERM') => proc.kill(signal, 10_000),
  };
  if (opts.waitReady ?? true) {
    const r = await lab.waitFor(async () => {
      if (!proc.running()) return 'exited';
      await h.status();
      return 'ready';
    }, { what: `tern control socket ${socket} on ${host}`, timeoutMs: 30_000, intervalMs: 200 });
    if (r === 'exited') {
      throw new Error(`tern on ${host} exited early (${JSON.stringify(await proc.exited)}); log:\n${proc.log().slice(-3000)}`);
    }
  }
  return h;
}

/** `tern status --json` inside the daemon's namespace: `{daemon, peers: [...]}`. */
export function ternStatus(h: TernHandle): Promise<StatusReply> { return h.status(); }
/** `tern routes --json` inside the daemon's namespace: the `routes` array. */
export function ternRoutes(h: TernHandle): Promise<RouteJson[]> { return h.routes(); }
