// Network-namespace lab kit for integration tests, the demo and the benchmarks.
//
// A Lab owns a unique prefix (`tn-<area>-<6 random>`), every namespace it creates
// (`<prefix>-<name>`), every process it spawns and a temp dir (`$TMPDIR/tern-lab-<prefix>`)
// for configs and logs. `destroy()` kills the processes and deletes the namespaces; it is
// registered with `t.teardown` and, synchronously, on process exit / SIGINT / SIGTERM, so
// nothing outlives the test. Traffic stays inside the lab's namespaces: links are veth pairs
// created directly inside them, and the root namespace is never touched.
//
// Interface names are ≤ 15 bytes (IFNAMSIZ): veths are `tv<5 hex>a|b`, bridge ports
// `tb<5 hex>a|b`, pod interfaces `cali<11 hex>` as Calico's CNI names them.
import { execFileSync, spawn as cpSpawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, waitFor, type ExecOptions, type ExecResult, type WaitOptions } from './exec.js';

export { execCommand, waitFor, type ExecOptions, type ExecResult, type WaitOptions } from './exec.js';

/** The part of tap's Test the kit uses (so the demo and benches can pass nothing). */
export interface TestLike {
  teardown(fn: () => unknown): void;
  passing?(): boolean;
  comment?(...args: unknown[]): void;
}

export interface LabOptions {
  /** Short area name in the prefix (`tn-<area>-…`); letters/digits, cut to 8. Default `lab`. */
  area?: string;
  /** Keep the temp dir (configs, logs) after destroy; default: keep only if the test failed. */
  keepDir?: boolean;
}

export interface BridgeOptions {
  /**
   * Give every host on the bridge a permanent neighbour entry (ARP, and NDP for IPv6) for
   * every other host, so they never resolve each other dynamically. Use it for segments with
   * many hosts (a full mesh of K nodes needs K·(K-1) entries): the kernel's neighbour tables
   * are shared by all network namespaces and hold at most gc_thresh3 (default 1024, only
   * settable in the initial namespace) dynamic entries in total, counting every other lab
   * running at the same time. Past that limit new entries are refused ("neighbour: arp_cache:
   * neighbor table overflow!" in dmesg) and packets to the unresolved neighbour are dropped:
   * TCP sessions stall in retransmission backoff for minutes while staying ESTABLISHED.
   * Permanent entries are exempt from the limit. Only for hosts whose addresses do not move.
   */
  staticNeighbours?: boolean;
}

/** A host plugged into a bridge, as far as static neighbour entries need it. */
interface BridgeMember { ns: string; ifName: string; mac: string; v4?: string; v6?: string }


export interface SpawnOptions {
  /** stdout+stderr go here (appended); default `<lab dir>/<host>-<cmd>-<n>.log`. */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Lines of this log printed as test comments when the test fails (default 40). */
  dumpLines?: number;
}

export interface ProcHandle {
  readonly host: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** SIGTERM, then SIGKILL after graceMs (default 3000); resolves once it has exited. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  log(): string;
}

export interface LinkEnd { host: string; ifName: string; v4?: string; v6?: string; v4Cidr?: string; v6Cidr?: string }
export interface LinkOptions {
  /** `[cidrA, cidrB]` (e.g. `['10.0.1.1/24','10.0.1.2/24']`), or one subnet/cidr whose
   *  `.1` goes to A and `.2` to B (`'10.0.1.0/24'`). */
  v4?: string | [string, string];
  v6?: string | [string, string];
  mtu?: number;
}
export interface Link { a: LinkEnd; b: LinkEnd }

export interface PodOptions {
  ip6?: string;
  /** route protocol of the host /32 (Felix's default is `boot`) */ proto?: string;
  /**
   * metric of the host routes: Felix v3.32 writes them at its normal route priority, 1024 for
   * both families (its elevated one, 512, during a VM's live migration); before v3.32 IPv4 ones
   * at 0. calico-node v3.32 sends a route inside its own block when the metric is below 1024.
   */
  metric?: number;
}
export interface Pod {
  name: string; ns: string; host: string;
  /** host-side interface, `cali<11 hex>` */ hostIf: string;
  ip: string; ip6?: string;
}


const live = new Set<Lab>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => { for (const lab of live) lab.destroySync(); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.destroySync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

function hex(n: number): string { return randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n); }

/** `10.0.1.0/24` → [`10.0.1.1/24`, `10.0.1.2/24`] (`fd00:1::/64` likewise); a pair is kept; a
 *  single non-network cidr goes to A only. */
function splitAddrs(spec: string | [string, string] | undefined, v6: boolean): [string | undefined, string | undefined] {
  if (spec === undefined) return [undefined, undefined];
  if (Array.isArray(spec)) return spec;
  const [addr, len] = spec.split('/');
  if (!addr || !len) throw new Error(`link address ${spec}: expected CIDR`);
  if (v6) return addr.endsWith('::') ? [`${addr}1/${len}`, `${addr}2/${len}`] : [spec, undefined];
  const o = addr.split('.').map(Number);
  if (o.length !== 4 || o[3] !== 0) return [spec, undefined];
  return [`${o[0]}.${o[1]}.${o[2]}.1/${len}`, `${o[0]}.${o[1]}.${o[2]}.2/${len}`];
}

export class Lab {
  readonly prefix: string;
  readonly dir: string;
  private readonly namespaces = new Map<string, string>(); // name -> netns
  private readonly bridges = new Map<string, string>(); // bridge name -> netns holding br0
  /** Bridges with static neighbours: name -> the hosts plugged in so far. */
  private readonly staticBridges = new Map<string, BridgeMember[]>();
  private readonly procs: Array<ProcHandle & { dumpLines: number }> = [];
  private readonly attachCount = new Map<string, number>();
  private logSeq = 0;
  private portSeq = 50050;
  private destroyed = false;

  constructor(private readonly t: TestLike | undefined, private readonly opts: LabOptions = {}) {
    const area = (opts.area ?? 'lab').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'lab';
    this.prefix = `tn-${area}-${hex(6)}`;
    this.dir = join(process.env.TMPDIR ?? tmpdir(), `tern-lab-${this.prefix}`);
    mkdirSync(this.dir, { recursive: true });
    live.add(this);
    hookExit();
    t?.teardown(() => this.destroy());
  }

  /** The namespace name of a host, pod or bridge created by this lab. */
  ns(name: string): string {
    const ns = this.namespaces.get(name);
    if (!ns) throw new Error(`lab ${this.prefix}: no host named ${name}`);
    return ns;
  }
  /** Whether this lab has a host, pod or bridge of that name. */
  has(name: string): boolean { return this.namespaces.has(name); }
  /** Every namespace this lab created (for leak assertions). */
  namespaceNames(): string[] { return [...this.namespaces.values()]; }
  /** A fresh TCP port number (for per-namespace loopback services such as gobgpd's gRPC). */
  nextPort(): number { return ++this.portSeq; }
  /** A file path inside the lab's temp dir. */
  path(name: string): string { return join(this.dir, name); }

  private async newNs(name: string): Promise<string> {
    if (this.destroyed) throw new Error(`lab ${this.prefix} is destroyed`);
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`bad lab name ${name}`);
    if (this.namespaces.has(name)) throw new Error(`lab ${this.prefix}: ${name} exists`);
    const ns = `${this.prefix}-${name}`;
    this.namespaces.set(name, ns);
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A host: a namespace with lo up. Returns the namespace name. */
  async addHost(name: string): Promise<string> { return this.newNs(name); }

  /** Runs `ip -n <ns> args…` (no process inside the namespace needed). */
  async ip(host: string, ...args: string[]): Promise<string> {
    return (await run('ip', ['-n', this.ns(host), ...args])).stdout;
  }

  /** `ip -j <args>` in the host's namespace, parsed (`[]` for empty output). */
  async ipJson<T = Array<Record<string, unknown>>>(host: string, ...args: string[]): Promise<T> {
    const out = (await run('ip', ['-n', this.ns(host), '-j', ...args])).stdout.trim();
    return (out ? JSON.parse(out) : []) as T;
  }

  /** Runs a command inside the host's namespace; throws with its stderr on failure. */
  exec(host: string, cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.ns(host), cmd, ...args], opts);
  }

  /** A veth pair between two hosts, addressed and up. */
  async link(hostA: string, hostB: string, opts: LinkOptions = {}): Promise<Link> {
    const id = hex(5);
    const a: LinkEnd = { host: hostA, ifName: `tv${id}a` };
    const b: LinkEnd = { host: hostB, ifName: `tv${id}b` };
    await run('ip', ['link', 'add', a.ifName, 'netns', this.ns(hostA), 'type', 'veth', 'peer', 'name', b.ifName, 'netns', this.ns(hostB)]);
    const [a4, b4] = splitAddrs(opts.v4, false);
    const [a6, b6] = splitAddrs(opts.v6, true);
    for (const [end, c4, c6] of [[a, a4, a6], [b, b4, b6]] as const) await this.upIf(end, c4, c6, opts.mtu);
    return { a, b };
  }

  private async upIf(end: LinkEnd, v4: string | undefined, v6: string | undefined, mtu?: number): Promise<void> {
    const ns = this.ns(end.host);
    if (v6) await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${end.ifName}.accept_dad=0`]);
    if (v4) { await run('ip', ['-n', ns, 'addr', 'add', v4, 'dev', end.ifName]); end.v4Cidr = v4; end.v4 = v4.split('/')[0]; }
    if (v6) { await run('ip', ['-n', ns, 'addr', 'add', v6, 'dev', end.ifName, 'nodad']); end.v6Cidr = v6; end.v6 = v6.split('/')[0]; }
    if (mtu) await run('ip', ['-n', ns, 'link', 'set', end.ifName, 'mtu', String(mtu)]);
    await run('ip', ['-n', ns, 'link', 'set', end.ifName, 'up']);
  }

  /** A shared L2 segment: a bridge `br0` in its own namespace `<prefix>-<name>`. */
  async bridge(name: string, opts: BridgeOptions = {}): Promise<string> {
    const ns = await this.newNs(name);
    await run('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);
    // With br_netfilter loaded on the host (Docker and some iptables setups load it), bridged
    // frames would go through the bridge namespace's netfilter hooks; a lab bridge is a plain
    // L2 segment, so switch that off where the sysctls exist.
    for (const f of ['iptables', 'ip6tables', 'arptables']) {
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.bridge.bridge-nf-call-${f}=0`]).catch(() => undefined);
    }
    this.bridges.set(name, ns);
    if (opts.staticNeighbours) this.staticBridges.set(name, []);
    return ns;
  }

  /** Plugs a host into a bridge; `addr` is a v4 cidr, or `{v4, v6, ifName}`. The host side is
   *  named `ifName` (default `eth<n>`, n counting this host's attachments from 0). */
  async attach(host: string, bridge: string, addr: string | { v4?: string; v6?: string; ifName?: string }): Promise<LinkEnd> {
    const brNs = this.bridges.get(bridge);
    if (!brNs) throw new Error(`lab ${this.prefix}: no bridge named ${bridge}`);
    const a = typeof addr === 'string' ? { v4: addr } : addr;
    const n = this.attachCount.get(host) ?? 0;
    this.attachCount.set(host, n + 1);
    const id = hex(5);
    const end: LinkEnd = { host, ifName: a.ifName ?? `eth${n}` };
    const tmp = `tb${id}a`;
    const port = `tb${id}b`;
    await run('ip', ['link', 'add', tmp, 'netns', this.ns(host), 'type', 'veth', 'peer', 'name', port, 'netns', brNs]);
    if (tmp !== end.ifName) await run('ip', ['-n', this.ns(host), 'link', 'set', tmp, 'name', end.ifName]);
    await run('ip', ['-n', brNs, 'link', 'set', port, 'master', 'br0']);
    await run('ip', ['-n', brNs, 'link', 'set', port, 'up']);
    await this.upIf(end, a.v4, a.v6);
    const members = this.staticBridges.get(bridge);
    if (members) await this.addStaticNeighbours(members, end);
    return end;
  }

  /** Permanent neighbour entries between `end` and every host already on the bridge. */
  private async addStaticNeighbours(members: BridgeMember[], end: LinkEnd): Promise<void> {
    const ns = this.ns(end.host);
    const [link] = JSON.parse((await run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', end.ifName])).stdout) as { address: string }[];
    const me: BridgeMember = { ns, ifName: end.ifName, mac: link!.address, ...(end.v4 ? { v4: end.v4 } : {}), ...(end.v6 ? { v6: end.v6 } : {}) };
    const entries = (to: BridgeMember, on: BridgeMember) => [to.v4, to.v6].filter((ip): ip is string => ip !== undefined)
      .map((ip) => `neigh replace ${ip} lladdr ${to.mac} dev ${on.ifName} nud permanent`);
    const mine = members.flatMap((m) => entries(m, me));
    if (mine.length > 0) await run('ip', ['-n', ns, '-batch', '-'], { input: `${mine.join('\n')}\n` });
    for (const m of members) {
      const theirs = entries(me, m);
      if (theirs.length > 0) await run('ip', ['-n', m.ns, '-batch', '-'], { input: `${theirs.join('\n')}\n` });
    }
    members.push(me);
  }

  /** Wires a pod the way Calico's CNI plugin and Felix do: namespace `<prefix>-<pod>`, host
   *  side `cali<11 hex>` (no address, MAC ee:ee:ee:ee:ee:ee, proxy_arp), pod side `eth0` with
   *  `ip/32`, `169.254.1.1 dev eth0 scope link` + `default via 169.254.1.1 dev eth0 onlink`
   *  (and a permanent neighbour for 169.254.1.1), host route `ip/32 dev caliX scope link`
   *  (metric 1024, as Felix v3.32 writes it),
   *  ip_forward=1 in the host namespace. */
  async addPod(host: string, podName: string, ip: string, opts: PodOptions = {}): Promise<Pod> {
    const hostNs = this.ns(host);
    const podNs = await this.newNs(podName);
    const hostIf = `cali${createHash('sha1').update(`${this.prefix}.${podName}`).digest('hex').slice(0, 11)}`;
    const addr = ip.split('/')[0] ?? ip;
    await run('ip', ['link', 'add', hostIf, 'netns', hostNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs]);
    await run('ip', ['-n', hostNs, 'link', 'set', hostIf, 'address', 'ee:ee:ee:ee:ee:ee']);
    const sysctl = (ns: string, kv: string) => run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', kv]);
    await sysctl(hostNs, 'net.ipv4.ip_forward=1');
    await sysctl(hostNs, `net.ipv4.conf.${hostIf}.proxy_arp=1`);
    await sysctl(hostNs, `net.ipv4.neigh.${hostIf}.proxy_delay=0`);
    await sysctl(hostNs, `net.ipv4.conf.${hostIf}.rp_filter=1`);
    await sysctl(hostNs, `net.ipv6.conf.${hostIf}.accept_dad=0`);
    await sysctl(podNs, 'net.ipv6.conf.eth0.accept_dad=0');
    await run('ip', ['-n', hostNs, 'link', 'set', hostIf, 'up']);
    await run('ip', ['-n', podNs, 'addr', 'add', `${addr}/32`, 'dev', 'eth0']);
    await run('ip', ['-n', podNs, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', podNs, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    await run('ip', ['-n', podNs, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
    await run('ip', ['-n', podNs, 'neigh', 'replace', '169.254.1.1', 'dev', 'eth0', 'lladdr', 'ee:ee:ee:ee:ee:ee', 'nud', 'permanent']);
    const proto = opts.proto ? ['proto', opts.proto] : [];
    const metric = ['metric', String(opts.metric ?? 1024)];
    await run('ip', ['-n', hostNs, 'route', 'add', `${addr}/32`, 'dev', hostIf, 'scope', 'link', ...proto, ...metric]);
    const pod: Pod = { name: podName, ns: podNs, host, hostIf, ip: addr };
    if (opts.ip6) {
      const a6 = opts.ip6.split('/')[0] ?? opts.ip6;
      await sysctl(hostNs, 'net.ipv6.conf.all.forwarding=1');
      await sysctl(hostNs, `net.ipv6.conf.${hostIf}.proxy_ndp=1`);
      await run('ip', ['-n', podNs, 'addr', 'add', `${a6}/128`, 'dev', 'eth0', 'nodad']);
      await run('ip', ['-n', podNs, '-6', 'route', 'add', 'default', 'via', 'fe80::ecee:eeff:feee:eeee', 'dev', 'eth0']);
      await run('ip', ['-n', podNs, '-6', 'neigh', 'replace', 'fe80::ecee:eeff:feee:eeee', 'dev', 'eth0', 'lladdr', 'ee:ee:ee:ee:ee:ee', 'nud', 'permanent']);
      await run('ip', ['-n', hostNs, '-6', 'route', 'add', `${a6}/128`, 'dev', hostIf, ...proto, ...metric]);
      pod.ip6 = a6;
    }
    return pod;
  }

  /** Starts a long-running process inside the host's namespace (stdout+stderr to logFile). */
  spawn(host: string, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ProcHandle {
    if (this.destroyed) throw new Error(`lab ${this.prefix} is destroyed`);
    const ns = this.ns(host);
    const logFile = opts.logFile ?? this.path(`${host}-${cmd.split('/').pop()}-${++this.logSeq}.log`);
    const fd = openSync(logFile, 'a');
    // `ip netns exec` execs the command, so child.pid is the daemon itself.
    const child = cpSpawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd,
    });
    closeSync(fd);
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => { done = true; resolve({ code, signal }); });
      child.once('error', () => { done = true; resolve({ code: -1, signal: null }); });
    });
    const handle = {
      host, logFile, child, exited, dumpLines: opts.dumpLines ?? 40,
      get pid() { return child.pid ?? -1; },
      running: () => !done,
      log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
      kill: async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000) => {
        if (done) return;
        child.kill(signal);
        const timer = setTimeout(() => { if (!done) child.kill('SIGKILL'); }, graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
    this.procs.push(handle);
    return handle;
  }

  /** Polls like the module-level `waitFor`. */
  waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NoInfer<NonNullable<T>>> { return waitFor(fn, opts); }

  /** Prints the tail of every process log as test comments (used when a test failed). */
  dumpLogs(): void {
    for (const p of this.procs) {
      if (p.dumpLines <= 0) continue;
      const lines = p.log().split('\n');
      const tail = lines.slice(-p.dumpLines).join('\n');
      const text = `--- ${p.logFile} (last ${Math.min(p.dumpLines, lines.length)} lines) ---\n${tail}`;
      if (this.t?.comment) this.t.comment(text); else process.stderr.write(`${text}\n`);
    }
  }

  /** Kills every process started and deletes every namespace. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    const failed = this.t?.passing ? !this.t.passing() : false;
    if (failed) this.dumpLogs();
    await Promise.all(this.procs.map((p) => p.kill('SIGTERM', 2000).catch(() => undefined)));
    this.destroySync(failed);
  }

  /** Synchronous teardown (process exit handlers): SIGKILL to everything in our namespaces. */
  destroySync(keepDir = false): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const p of this.procs) if (p.running() && p.pid > 0) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const ns of this.namespaces.values()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        for (const pid of pids.split(/\s+/).filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      } catch { /* namespace already gone */ }
    }
    for (const ns of this.namespaces.values()) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
    if (!keepDir && !this.opts.keepDir && !process.env.TERN_KEEP_LAB) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A lab bound to a tap test (teardown registered), or a free-standing one (demo, bench). */
export function createLab(t?: TestLike, opts: LabOptions = {}): Lab { return new Lab(t, opts); }

/** Names of all network namespaces currently present. */
export async function listNamespaces(): Promise<string[]> {
  const out = (await run('ip', ['netns', 'list'])).stdout;
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

