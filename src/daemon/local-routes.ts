// LocalRoutes: the configuration-applied half of a node's routing plane. It holds the routes
// the node originates itself in the Loc-RIB (own confirmed blocks, advertised service CIDRs,
// kernel-learned routes) and the kernel-only pieces of the configuration (reachableBy routes,
// the service CIDRs no route may be programmed for).
//
// Invariants
// - Own confirmed blocks are originated except host-length ones (/32, /128), as confd
//   renders no static route for them; each originated prefix is in the Loc-RIB exactly once under its local source, with our
//   address of its family as next hop; a configuration change re-sets them all, so the next
//   hop follows our address.
// - A reachableBy route is written to the FIB directly and never enters the Loc-RIB (so it is
//   never advertised); while it exists, a best path for the same prefix is not programmed.
// - A change of the reject CIDRs hands every Loc-RIB route inside the old or the new ones to
//   the FIB again (through `refeed`, RoutingCore's Loc-RIB → FIB path).
import type { PeerSpec } from '../peering/peer-spec.js';
import { confirmedBlocks, type NodeBgpConfig } from '../peering/node-config.js';
import type { PathAttributes } from '../bgp/wire/types.js';
import type { FibSync } from '../fib/fib-sync.js';
import { familyOf, maxLength, prefixLength, type Family } from '../net/prefix.js';
import type { LocRib, BestChange } from '../rib/loc-rib.js';
import type { AdjRibOutManager } from '../rib/adj-rib-out-manager.js';
import { SOURCE_KERNEL_EXTRA, SOURCE_KERNEL_TUNNEL } from '../policy/export.js';
import { inside, matchPrefix, type MatchPrefix } from '../policy/prefix-match.js';

/** Local route sources in the Loc-RIB. */
export const SOURCE_BLOCK = 'local:block';
export const SOURCE_KERNEL = 'local:kernel';
/** Advertised service CIDRs (Calico's static `route <cidr> blackhole`, kept out of the kernel). */
export const SOURCE_STATIC = 'local:static';

export class LocalRoutes {
  private blocks = new Set<string>();
  private statics = new Set<string>();
  /** Service CIDRs no route may be programmed into the kernel for (Calico /rejectcidrs). */
  private kernelRejects: MatchPrefix[] = [];
  private kernelRejectKey = '';
  /** Kernel-learned prefixes and their local source (SOURCE_KERNEL or SOURCE_KERNEL_TUNNEL). */
  private learned = new Map<string, string>();
  /** reachableBy kernel routes: `<peer>/32` (or /128) → gateway. */
  private reach = new Map<string, string>();
  /** attributes(): per family, for the configuration `cfg`. */
  private attrs: { readonly cfg: NodeBgpConfig; readonly ipv4: PathAttributes; readonly ipv6: PathAttributes } | null = null;

  constructor(
    private cfg: NodeBgpConfig,
    private readonly rib: LocRib,
    private readonly out: AdjRibOutManager,
    private readonly fib: FibSync | null,
    private readonly refeed: (changes: readonly BestChange[]) => void,
  ) {}

  /** Own blocks, advertised service CIDRs and reject CIDRs of a new configuration. */
  applyOriginated(cfg: NodeBgpConfig): void {
    this.cfg = cfg;
    // Calico (bird_aggr: `route <block> blackhole` except /32; bird6_aggr except /128): a
    // host-length block is not originated; its workload's kernel route, learned, is.
    const want = new Set(confirmedBlocks(cfg).filter((b) => prefixLength(b) < maxLength(familyOf(b))));
    for (const b of this.blocks) if (!want.has(b)) this.rib.setLocal(b, null, SOURCE_BLOCK);
    for (const b of want) this.rib.setLocal(b, this.attributes(familyOf(b)), SOURCE_BLOCK);
    this.blocks = want;
    const wantStatic = new Set(cfg.services.advertise);
    for (const p of this.statics) if (!wantStatic.has(p)) this.rib.setLocal(p, null, SOURCE_STATIC);
    for (const p of wantStatic) this.rib.setLocal(p, this.attributes(familyOf(p)), SOURCE_STATIC);
    this.statics = wantStatic;
    this.setKernelRejects(cfg.services.reject);
  }

  /** reachableBy routes of a new configuration; kernel-learned routes follow our address. */
  applyKernel(cfg: NodeBgpConfig): void {
    this.cfg = cfg;
    this.setReachableBy(cfg.peers);
    for (const [p, source] of this.learned) this.rib.setLocal(p, this.attributes(familyOf(p)), source);
  }

  /** True when a reachableBy route owns the prefix in the kernel. */
  reachOwns(prefix: string): boolean {
    return this.reach.size > 0 && this.reach.has(prefix);
  }

  /** True when the prefix lies inside a reject CIDR: it is never programmed into the kernel. */
  kernelRejected(prefix: string): boolean {
    if (this.kernelRejects.length === 0) return false;
    const p = matchPrefix(prefix);
    return this.kernelRejects.some((c) => inside(p, c));
  }

  /** A kernel route learned (present) or gone: the Loc-RIB's local path follows it. */
  onLearned(prefix: string, present: boolean): void {
    const before = this.learned.get(prefix);
    const source = this.fib?.learnedIsExtra(prefix) ? SOURCE_KERNEL_EXTRA : this.fib?.learnedOnTunnel(prefix) ? SOURCE_KERNEL_TUNNEL : SOURCE_KERNEL;
    if (before !== undefined && (!present || before !== source)) this.rib.setLocal(prefix, null, before);
    if (present) {
      this.learned.set(prefix, source);
      this.rib.setLocal(prefix, this.attributes(familyOf(prefix)), source);
      if (before === source) this.out.interfacesChanged(prefix); // the same route on another interface or at another metric
    } else {
      this.learned.delete(prefix);
    }
  }

  /** A local route's attributes, one frozen object per family and configuration (the Loc-RIB interns it once). */
  private attributes(family: Family): PathAttributes {
    let m = this.attrs;
    if (m === null || m.cfg !== this.cfg) {
      const of = (nh: string | undefined): PathAttributes => Object.freeze({ origin: 0, asPath: [], ...(nh ? { nextHop: nh } : {}) });
      m = this.attrs = { cfg: this.cfg, ipv4: of(this.cfg.ipv4?.address), ipv6: of(this.cfg.ipv6?.address) };
    }
    return m[family];
  }

  /** New reject CIDRs: every route inside old or new ones is handed to the FIB again. */
  private setKernelRejects(cidrs: readonly string[]): void {
    const key = cidrs.join(',');
    if (key === this.kernelRejectKey) return;
    const before = this.kernelRejects;
    this.kernelRejectKey = key;
    this.kernelRejects = cidrs.map(matchPrefix);
    if (!this.fib) return;
    const touched = [...before, ...this.kernelRejects];
    const changes: BestChange[] = [];
    for (const r of this.rib.routes()) {
      const p = matchPrefix(r.prefix);
      if (touched.some((c) => inside(p, c))) changes.push({ prefix: r.prefix, family: r.family, best: r.best, multipath: r.multipath, previousBest: r.best, reason: r.reason });
    }
    if (changes.length > 0) this.refeed(changes);
  }

  /**
   * BGPPeer reachableBy: the route to the peer through its gateway, as confd writes it
   * (`route <peer>/32 via <gateway>` in BIRD's static protocol, exported to the kernel).
   */
  private setReachableBy(peers: readonly PeerSpec[]): void {
    const want = new Map<string, string>();
    for (const p of peers) {
      if (p.reachableBy) want.set(`${p.address}/${p.family === 'ipv4' ? 32 : 128}`, p.reachableBy);
    }
    if (!this.fib) { this.reach = want; return; }
    for (const [prefix] of this.reach) if (!want.has(prefix)) this.fib.setRoute(prefix, null);
    for (const [prefix, gw] of want) if (this.reach.get(prefix) !== gw) this.fib.setRoute(prefix, [gw]);
    this.reach = want;
  }
}
