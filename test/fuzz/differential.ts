// Differential run: the same seeded UPDATE streams (update-gen.ts) go over real BGP sessions
// to tern and to BIRD 2, side by side in network namespaces; after each stream the two
// Loc-RIBs (tern's `routes --json`, BIRD's `show route all`) are compared prefix by prefix:
// per source, the set of paths (AS path, next hop, origin, MED, LOCAL_PREF, communities,
// large communities), and which path is best.
//
//   gen (10.98.0.2 AS 65010, 10.98.0.3 AS 65011 with ADD-PATH) ──┬── tern 10.98.0.10 AS 64512 (--no-fib)
//                                                                └── BIRD 10.98.0.20 AS 64512
//
// Known, explained differences (docs/rfc-compliance.md, "Differential testing against BIRD 2")
// are normalised away in `explain` below, each with its reason; anything else is a failure
// reported with the stream's seed (a stream starts by withdrawing everything, so its seed
// alone replays it).
import * as net from 'node:net';
import { createLab, type Lab, type TestLike } from '../../lab/netns.js';
import { startBird, type BirdHandle, type BirdRoute } from '../helpers/peers-bird.js';
import { birdName } from '../helpers/peers-common.js';
import { REPO_ROOT, startTern, type TernHandle } from '../helpers/tern.js';
import type { RouteJson } from '../../src/api/types.js';
import { SENTINEL } from './update-gen.js';

const GENS = [
  { address: '10.98.0.2', asn: 65010, addPath: false },
  { address: '10.98.0.3', asn: 65011, addPath: true },
];
const TERN = '10.98.0.10';
const BIRD = '10.98.0.20';
const ASN = 64512;
/** Other NEXT_HOP values on the segment (no host answers there; both speakers resolve them as on-link). */
const NEXT_HOPS = ['10.98.0.5', '10.98.0.6', '10.98.0.7'];

export interface DiffOptions {
  readonly seed: number;
  /** Stop after this many streams … */
  readonly streams?: number;
  /** … or after this many seconds (whichever comes first). */
  readonly seconds?: number;
  /** UPDATEs per stream (default 40). */
  readonly messages?: number;
  /** Also the next-hop, AS 0 and foreign-family cases (update-gen.ts `extra`). */
  readonly extra?: boolean;
  /** Go on after a failing stream (each stream starts from a clean table). */
  readonly keepGoing?: boolean;
  readonly t?: TestLike;
  readonly log: (line: string) => void;
}

export interface DiffResult {
  readonly streams: number;
  readonly seconds: number;
  /** One entry per failing stream: its seed and what differed. */
  readonly failures: { stream: number; seed: number; gen: number; diffs: string[] }[];
  /** Known differences seen (reason → count). */
  readonly explained: Record<string, number>;
  /** Paths compared, over every stream. */
  readonly compared: number;
}

interface NormPath { source: string; path: string; best: boolean }

function normAsPath(text: string): string {
  const out: string[] = [];
  for (const m of text.matchAll(/\{([^}]*)\}|\(([^)]*)\)|(\d+)/g)) {
    if (m[1] !== undefined) out.push(`{${(m[1].match(/\d+/g) ?? []).map(Number).sort((a, b) => a - b).join(',')}}`);
    else if (m[2] !== undefined) out.push(`(${(m[2].match(/\d+/g) ?? []).join(' ')})`);
    else out.push(m[3]!);
  }
  return out.join(' ');
}

function pathKey(p: { asPath: string; nextHop: string; origin?: string | undefined; med?: number | undefined; localPref?: number | undefined; communities?: string[] | undefined; large?: string[] | undefined }): string {
  return JSON.stringify([
    normAsPath(p.asPath), p.nextHop, (p.origin ?? '').toLowerCase(), p.med ?? null, p.localPref ?? 100,
    capList(p.communities), capList(p.large),
  ]);
}

/**
 * BIRD's `show route all` prints a long community list cut short, ending in "..." (its CLI
 * line buffer): only the first values are comparable. Lists keep wire order on both sides.
 */
const LIST_CAP = 24;
function capList(l: readonly string[] | undefined): string[] {
  return (l ?? []).slice(0, LIST_CAP);
}

function ternPaths(routes: RouteJson[]): Map<string, NormPath[]> {
  const m = new Map<string, NormPath[]>();
  for (const r of routes) {
    if (!GENS.some((g) => g.address === r.source)) continue;
    const list = m.get(r.prefix) ?? [];
    list.push({ source: r.source, best: r.best, path: pathKey({ asPath: r.asPath, nextHop: r.nextHop, origin: r.origin, med: r.med, localPref: r.localPref, communities: r.communities, large: r.largeCommunities }) });
    m.set(r.prefix, list);
  }
  return m;
}

function birdPaths(routes: BirdRoute[]): Map<string, NormPath[]> {
  const byProto = new Map(GENS.map((g) => [birdName({ address: g.address, asn: g.asn }), g.address]));
  const m = new Map<string, NormPath[]>();
  for (const r of routes) {
    const source = byProto.get(r.protocol);
    if (!source) continue;
    const list = m.get(r.prefix) ?? [];
    list.push({
      source, best: r.primary,
      path: pathKey({ asPath: r.attrs['BGP.as_path'] ?? '', nextHop: r.bgpNextHop?.[0] ?? '', origin: r.origin, med: r.med, localPref: r.localPref, communities: r.communities, large: r.largeCommunities }),
    });
    m.set(r.prefix, list);
  }
  return m;
}

/** RFC 4271 §9.1.2.2 length: an AS_SET counts one, confederation segments none. */
function pathLength(asPath: string): number {
  let n = 0;
  for (const tok of asPath.split(' ').filter(Boolean)) if (!tok.startsWith('(')) n++;
  return n;
}

/** Neighbour AS for the MED step as tern and BIRD both take it: the AS_PATH's first AS. */
function neighbourAs(asPath: string): number | null {
  const m = /^\d+/.exec(asPath);
  return m ? Number(m[0]) : null;
}

/**
 * The two tables hold the same paths but pick different best paths: is it the known,
 * explained difference (docs/rfc-compliance.md)? Returns the reason, or null.
 */
function explainBest(t: NormPath, b: NormPath): string | null {
  const [ta, , to, tm, tl] = JSON.parse(t.path) as [string, string, string, number | null, number];
  const [ba, , bo, bm, bl] = JSON.parse(b.path) as [string, string, string, number | null, number];
  // Two ADD-PATH paths of one peer equal in every RFC 4271 step (MED compared only within one
  // neighbour AS, no MED counting as 0): the RFCs leave the choice open.
  const medTie = neighbourAs(ta) !== neighbourAs(ba) || (tm ?? 0) === (bm ?? 0);
  if (t.source === b.source && tl === bl && pathLength(ta) === pathLength(ba) && to === bo && medTie) return 'tie between ADD-PATH paths of one peer';
  return null;
}

/** Prefix-by-prefix differences between the two tables ([] when equal); explained ones are counted in `explained`. */
export function compareRibs(tern: Map<string, NormPath[]>, bird: Map<string, NormPath[]>, explained: Record<string, number> = {}): string[] {
  const diffs: string[] = [];
  const prefixes = new Set([...tern.keys(), ...bird.keys()]);
  const show = (l: NormPath[] | undefined, withBest = true) => (l ?? []).map((p) => `${p.source} ${p.path}${withBest && p.best ? ' *' : ''}`).sort();
  for (const prefix of [...prefixes].sort()) {
    const a = show(tern.get(prefix));
    const b = show(bird.get(prefix));
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (JSON.stringify(show(tern.get(prefix), false)) === JSON.stringify(show(bird.get(prefix), false))) {
      const tb = tern.get(prefix)?.find((p) => p.best);
      const bb = bird.get(prefix)?.find((p) => p.best);
      const why = tb && bb ? explainBest(tb, bb) : null;
      if (why) { explained[why] = (explained[why] ?? 0) + 1; continue; }
    }
    diffs.push(`${prefix}\n    tern: ${a.join('\n          ') || '(none)'}\n    bird: ${b.join('\n          ') || '(none)'}`);
  }
  return diffs;
}

class DriverClient {
  private buf = '';
  private readonly lines: string[] = [];
  private waiters: ((l: string) => void)[] = [];
  readonly events: string[] = [];
  constructor(private readonly sock: net.Socket) {
    sock.on('data', (c: Buffer) => {
      this.buf += c.toString();
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (line.includes('"event"')) { this.events.push(line); continue; }
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
  }
  request(o: object): Promise<string> {
    this.sock.write(JSON.stringify(o) + '\n');
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }
  close(): void { this.sock.destroy(); }
}

async function setUp(lab: Lab, messages: number | undefined, extra: boolean): Promise<{ tern: TernHandle; bird: BirdHandle; driver: DriverClient }> {
  await lab.bridge('seg');
  for (const h of ['gen', 'tern', 'bird']) await lab.addHost(h);
  const genLink = await lab.attach('gen', 'seg', { v4: `${GENS[0]!.address}/24` });
  await lab.ip('gen', 'addr', 'add', `${GENS[1]!.address}/24`, 'dev', genLink.ifName);
  await lab.attach('tern', 'seg', { v4: `${TERN}/24` });
  await lab.attach('bird', 'seg', { v4: `${BIRD}/24` });
  const yaml = [
    `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: { name: default }\nspec: { asNumber: ${ASN}, nodeToNodeMeshEnabled: false, logSeverityScreen: Warning }`,
    `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: { name: tern-node }\nspec: { bgp: { ipv4Address: ${TERN}/24 } }`,
    `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: pool }\nspec: { cidr: 10.244.0.0/16 }`,
    ...GENS.map((g, i) => `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: { name: gen${i} }\nspec: { peerIP: ${g.address}, asNumber: ${g.asn} }`),
  ].join('\n---\n');
  const tern = await startTern(lab, 'tern', { datastoreYaml: yaml, node: 'tern-node', extraArgs: ['--no-fib'], logLevel: 'warn' });
  const bird = await startBird(lab, 'bird', {
    routerId: BIRD, asn: ASN,
    neighbors: GENS.map((g) => ({ address: g.address, asn: g.asn, passive: true })),
  });
  const sockPath = lab.path('driver.sock');
  const cfg = { gens: GENS, receivers: [{ name: 'tern', address: TERN, asn: ASN }, { name: 'bird', address: BIRD, asn: ASN }], nextHops: NEXT_HOPS, ...(messages ? { messages } : {}), extra };
  const proc = lab.spawn('gen', process.execPath, ['--import', 'tsx', 'test/fuzz/diff-driver.ts', sockPath, JSON.stringify(cfg)], { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
  await lab.waitFor(() => {
    if (!proc.running()) throw new Error(`driver exited: ${proc.log()}`);
    return proc.log().includes('"ready"');
  }, { what: 'differential driver sessions up', timeoutMs: 60_000 });
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(sockPath, () => resolve(s));
    s.once('error', reject);
  });
  for (const g of GENS) await tern.waitPeer(g.address, 'Established', 30_000);
  await bird.waitEstablished(undefined, 30_000);
  return { tern, bird, driver: new DriverClient(sock) };
}

export async function runDifferential(o: DiffOptions): Promise<DiffResult> {
  const lab = createLab(o.t, { area: 'diff' });
  const started = Date.now();
  const failures: DiffResult['failures'] = [];
  const explained: Record<string, number> = {};
  let k = 0;
  let compared = 0;
  try {
    const { tern, bird, driver } = await setUp(lab, o.messages, o.extra === true);
    const deadline = o.seconds !== undefined ? started + o.seconds * 1000 : Infinity;
    while ((o.streams === undefined || k < o.streams) && Date.now() < deadline) {
      k++;
      const seed = (o.seed + k * 0x9e3779b1) >>> 0;
      const gen = k % GENS.length;
      const g = GENS[gen]!;
      await driver.request({ stream: k, seed, gen });
      // Both have processed the stream once its sentinel (MED = k) is in.
      const proto = birdName({ address: g.address, asn: g.asn });
      let tRoutes: RouteJson[] = [];
      let bRoutes: BirdRoute[] = [];
      try {
        await lab.waitFor(async () => {
          tRoutes = await tern.routes();
          return tRoutes.some((r) => r.prefix === SENTINEL && r.source === g.address && r.med === k);
        }, { what: `tern took stream ${k}`, timeoutMs: 30_000, intervalMs: 100 });
        await lab.waitFor(async () => {
          bRoutes = await bird.routes();
          return bRoutes.some((r) => r.prefix === SENTINEL && r.protocol === proto && r.med === k);
        }, { what: `BIRD took stream ${k}`, timeoutMs: 30_000, intervalMs: 100 });
      } catch (err) {
        failures.push({ stream: k, seed, gen, diffs: [`sentinel: ${String(err)}`, ...driver.events.splice(0)] });
        break;
      }
      const tp = ternPaths(tRoutes);
      for (const l of tp.values()) compared += l.length;
      const diffs = [...compareRibs(tp, birdPaths(bRoutes), explained), ...driver.events.splice(0)];
      if (diffs.length) {
        failures.push({ stream: k, seed, gen, diffs });
        o.log(`stream ${k} seed ${seed} gen ${gen}: ${diffs.length} difference(s)\n  ${diffs.slice(0, 10).join('\n  ')}`);
        if (!o.keepGoing) break; // the first failure is the one to read
      }
      if (k % 20 === 0) o.log(`${k} streams, ${((Date.now() - started) / 1000).toFixed(0)} s, ${compared} paths compared, no difference`);
    }
    driver.close();
  } finally {
    if (!o.t) await lab.destroy();
  }
  return { streams: k, seconds: (Date.now() - started) / 1000, failures, explained, compared };
}
