// RoutingCore: the routing plane of one node. It connects the speaker's session events to
// the Loc-RIB, the Adj-RIB-Out and graceful restart, the Loc-RIB's best-path changes to the
// FIB, and the FIB's learned kernel routes back into the RIB as local routes (through
// LocalRoutes, local-routes.ts, which also applies the node's own blocks, service CIDRs and
// reachableBy routes from the configuration).
//
// Invariants
// - The Loc-RIB holds every path; the FIB gets, per prefix, the next hops of the multipath
//   set when the best path came from a peer, and nothing when the best is local (own block:
//   its blackhole is programmed by setOwnBlocks; a kernel-learned route is already there).
// - A peer's Adj-RIB-Out exists exactly while its session is Established.
// - fib.endOfRibAll() is called once, after every configured peer has sent End-of-RIB for
//   its family since start (or at once when no peer is configured, or by endRecovery() when
//   --stale-time runs out): only then are adopted
//   kernel routes that nobody re-advertised swept (RFC 4724 §4.1 restarting speaker).
//   Peers that came up without the GR capability, or with the Restart State bit set, are
//   not waited for (RFC 4724 §4.1 (a)).
// - A cluster id changed or cleared at run time: held paths that loop under the new one go
//   (LocRib.setClusterId), and every established iBGP peer sends its routes again, so paths
//   dropped as loops under the old one come back: asked by ROUTE-REFRESH (RFC 2918), or
//   through a session restarted with Cease 6/6 when it has no route refresh (peer-changes.ts).
// - Selection deferral (deferAdvertisement(), RFC 4724 §4.1): while restart recovery lasts,
//   the Adj-RIB-Out sends nothing, End-of-RIB included; when it ends every peer gets the
//   whole table, then End-of-RIB. A restarting reflector thus never tells a client its table
//   is complete before the other clients' routes are in. The FIB is not deferred: a peer's
//   route replaces the adopted kernel copy as soon as it arrives.
import type { PeerHandle } from '../bgp/session/peer.js';
import type { DownReason } from '../bgp/session/fsm.js';
import { isEndOfRib } from '../bgp/wire/index.js';
import { RouteRefreshSubtype } from '../bgp/wire/constants.js';
import { afiSafiToFamily } from '../bgp/wire/family.js';
import type { RouteRefreshMessage, UpdateMessage } from '../bgp/wire/types.js';
import type { PeerSpec } from '../peering/peer-spec.js';
import type { NodeBgpConfig } from '../peering/node-config.js';
import type { FibSync } from '../fib/fib-sync.js';
import { LocRib, type BestChange } from '../rib/loc-rib.js';
import { AdjRibOutManager } from '../rib/adj-rib-out-manager.js';
import { GracefulRestartHelper } from '../rib/graceful-restart.js';
import { screenUpdate } from '../rib/inbound.js';
import { SOURCE_KERNEL_EXTRA, SOURCE_KERNEL_TUNNEL } from '../policy/export.js';
import { compileChain, mayAcceptLocal } from '../policy/bgp-filter.js';
import { chainUsesInterface, importFilterOf, pathInterfaceOf, pathMetricOf } from './route-interfaces.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { RestartRecovery } from './restart-recovery.js';
import { stableJson } from '../util/stable-json.js';
import { errorMessage } from '../util/errors.js';
import { InboundRefusals, type InboundCounters } from './inbound-refusals.js';
import { exportContextOf } from './export-context.js';
import { LocalRoutes, SOURCE_KERNEL } from './local-routes.js';
import { bestChangesToFib } from './best-to-fib.js';
import { InputGate } from './input-gate.js';
import { codeCacheRouteEvent } from '../runtime/code-cache.js';
import { routeActivity } from '../runtime/idle-gc.js';
import { applyPeerFilters, chainKey, reacquireIbgpRoutes, type EstablishedPeer } from './peer-changes.js';

export { exportContextOf, restartPolicy } from './export-context.js';
export type { InboundCounters } from './inbound-refusals.js';
export { SOURCE_BLOCK, SOURCE_KERNEL, SOURCE_STATIC } from './local-routes.js';

export class RoutingCore {
  readonly rib: LocRib;
  readonly out: AdjRibOutManager;
  readonly gr: GracefulRestartHelper;
  private readonly established = new Map<string, EstablishedPeer>();
  private readonly inbound: InboundRefusals;
  /** Restart recovery: End-of-RIB awaited from configured peers, selection deferral. */
  private readonly recovery: RestartRecovery;
  private readonly local: LocalRoutes;
  private cfg: NodeBgpConfig;
  /** `cfg.peers` by key, for the configuration it was made from (configuredSpec). */
  private specIndex: { cfg: NodeBgpConfig; byKey: Map<string, PeerSpec> } | null = null;
  private readonly log: Logger;
  /** The export context last handed to the Adj-RIB-Out, as JSON. */
  private exportKey = '';
  /** Holds back peers' input while the FIB's backlog is high (input-gate.ts). */
  private readonly gate: InputGate | null;

  constructor(
    cfg: NodeBgpConfig,
    private readonly fib: FibSync | null,
    clock: Clock,
    logger: Logger,
  ) {
    this.cfg = cfg;
    this.gate = fib ? new InputGate(() => fib.backlog, clock) : null;
    this.log = logger.child({ module: 'routing' });
    this.inbound = new InboundRefusals(this.log);
    this.rib = new LocRib({
      localAs: cfg.asNumber, routerId: cfg.routerId, ...(cfg.clusterId ? { clusterId: cfg.clusterId } : {}),
      // A listener that throws (the FIB feed) is logged; the others and the next flush go on.
      onError: (err) => this.log.error('internal error in a Loc-RIB listener', { event: 'ribListenerError', code: 'ERR_RIB_INTERNAL', error: errorMessage(err), stack: (err as Error | undefined)?.stack }),
    });
    const ctx = exportContextOf(cfg);
    this.exportKey = stableJson(ctx);
    const kernelSources = new Set([SOURCE_KERNEL, SOURCE_KERNEL_TUNNEL, SOURCE_KERNEL_EXTRA]);
    this.out = new AdjRibOutManager(this.rib, ctx, { log: this.log, interfaceOf: pathInterfaceOf(fib, kernelSources), metricOf: pathMetricOf(fib, kernelSources) });
    this.gr = new GracefulRestartHelper(this.rib, clock);
    this.local = new LocalRoutes(cfg, this.rib, this.out, fib, (changes) => this.toFib(changes));
    this.recovery = new RestartRecovery({ hold: (on) => this.out.hold(on), endOfRibAll: () => this.fib?.endOfRibAll() }, this.log);
    this.rib.onBestChange((changes) => this.toFib(changes));
    fib?.on('learned', (prefix, present) => { codeCacheRouteEvent(); this.local.onLearned(prefix, present); });
    fib?.on('interfaces', () => this.onInterfacesChanged());
    this.setLearnExtra();
  }

  /**
   * Hold what calico-node's BIRD holds beyond pool routes (out-of-pool kernel routes,
   * connected subnets) only while some peer's export chain could Accept one.
   */
  private setLearnExtra(): void {
    this.fib?.setLearnExtra(this.cfg.peers.some((p) => mayAcceptLocal(p.exportFilter)));
  }

  // ---- configuration ----

  /** A new derived configuration: export context, own blocks, peers awaited for End-of-RIB. */
  setConfig(cfg: NodeBgpConfig): void {
    this.cfg = cfg;
    // RFC 4456 §8: the import loop check follows routeReflectorClusterID changes at run time.
    this.setLearnExtra();
    const oldClusterId = this.rib.clusterId;
    const dropped = this.rib.setClusterId(cfg.clusterId);
    if (dropped > 0) this.log.info('cluster id changed: looping paths removed', { event: 'clusterIdChanged', clusterId: cfg.clusterId, paths: dropped });
    if (oldClusterId !== undefined && oldClusterId !== cfg.clusterId) reacquireIbgpRoutes(this.established, this.log);
    // A new export context re-evaluates every advertised prefix for every peer: only when
    // pools, own blocks, addresses, AS or cluster id really changed.
    const ctx = exportContextOf(cfg);
    const ctxKey = stableJson(ctx);
    if (ctxKey !== this.exportKey) {
      this.exportKey = ctxKey;
      this.out.setContext(ctx);
    }
    this.local.applyOriginated(cfg);
    applyPeerFilters(cfg.peers, this.established, { rib: this.rib, out: this.out, fib: this.fib, log: this.log });
    this.local.applyKernel(cfg);
    if (this.recovery.recovering) this.recovery.keepOnly(new Set(cfg.peers.map((p) => p.key)));
  }

  /**
   * RFC 4724 §4.1: hold advertisement to every peer until restart recovery ends (every
   * awaited peer sent End-of-RIB, or endRecovery() from the selection deferral timer).
   * Call before expectEndOfRib.
   */
  deferAdvertisement(): void {
    this.recovery.defer();
  }

  /** True while advertisement is deferred (RFC 4724 §4.1). */
  get deferringAdvertisement(): boolean {
    return this.recovery.deferringAdvertisement;
  }

  /** Before the first setPeers: the peers whose End-of-RIB ends restart adoption. */
  expectEndOfRib(peers: readonly PeerSpec[]): void {
    this.recovery.expect(peers);
  }

  /** A peer removed from the configuration: its routes go at once (no GR for deconfigured peers). */
  peerRemoved(key: string): void {
    this.inbound.forget(key);
    this.out.removePeer(key);
    this.gr.forget(key);
    this.recovery.forget(key);
  }

  // ---- speaker events ----

  onEstablished(h: PeerHandle): void {
    const n = h.negotiated;
    if (!n) return;
    const spec = h.spec;
    this.out.removePeer(spec.key); // a stale one from a session that never reported down
    this.rib.registerPeer({
      key: spec.key,
      address: spec.address,
      asn: n.peerAs,
      routerId: n.peerRouterId,
      ebgp: n.ebgp,
      routeReflectorClient: spec.routeReflectorClient,
      family: spec.family,
      ...(spec.allowOwnAs ? { allowOwnAs: spec.allowOwnAs } : {}),
    });
    // The spec in force now (a filter change may have come after the session's own spec).
    const current = this.configuredSpec(spec.key) ?? spec;
    this.rib.setImportFilter(spec.key, importFilterOf(current.importFilter, this.fib));
    const preserved = n.peerGracefulRestart
      ? [...n.peerGracefulRestart.families].filter(([, v]) => v.forwardingPreserved).map(([f]) => f)
      : null;
    this.gr.peerUp(spec.key, { preservedFamilies: preserved });
    this.established.set(spec.key, { handle: h, family: spec.family, importFilter: chainKey(current.importFilter), exportFilter: chainKey(current.exportFilter) });
    // RFC 4724 §4.1 (a): no End-of-RIB is awaited from a peer without the GR capability or
    // one that is restarting itself (two restarting speakers would otherwise wait on each other),
    // nor from one that did not negotiate the session's family (it cannot send one we accept).
    const peerGr = n.peerGracefulRestart;
    const familyOk = n.families.has(spec.family);
    if (!peerGr || peerGr.restarting || !familyOk) {
      this.recovery.notAwaited(spec.key, spec.address, !familyOk ? 'familyNotNegotiated' : peerGr ? 'peerRestarting' : 'noGracefulRestart');
    }
    if (!familyOk) {
      // RFC 4760 / RFC 5492: nothing of a family the peer did not negotiate, End-of-RIB included.
      this.log.warn('session negotiated no address family tern carries on it; nothing is sent', { event: 'noCommonFamily', peer: spec.address, family: spec.family });
      return;
    }
    const localAddress = spec.sourceAddress ?? (spec.family === 'ipv4' ? this.cfg.ipv4?.address : this.cfg.ipv6?.address);
    this.out.addPeer(
      {
        key: spec.key,
        family: spec.family,
        ebgp: n.ebgp,
        peerAs: n.peerAs,
        routeReflectorClient: spec.routeReflectorClient,
        nextHopMode: spec.nextHopMode,
        ...(localAddress ? { localAddress } : {}),
        fourOctetAs: n.fourOctetAs,
        addPath: n.addPathSend.has(spec.family),
        extendedMessage: n.extendedMessage,
        ...(current.exportFilter ? { exportFilter: compileChain(current.exportFilter) } : {}),
      },
      { write: (buf) => h.write(buf), onDrain: (cb) => void h.on('drain', cb), fail: (err) => h.fail(err) },
    );
  }

  onDown(h: PeerHandle, reason: DownReason, gracefulRestartApplies: boolean): void {
    const key = h.spec.key;
    this.gate?.forget(h);
    const wasUp = this.established.delete(key);
    this.out.removePeer(key);
    if (!wasUp && !this.rib.source(key)) return;
    const peerGr = h.negotiated?.peerGracefulRestart ?? null;
    const result = this.gr.peerDown(key, {
      gracefulRestartApplies,
      restartTime: peerGr?.restartTime ?? 0,
      families: peerGr ? [...peerGr.families.keys()] : [],
    });
    this.log.info('peer down', { event: 'peerDown', peer: h.spec.address, reason, routes: result });
  }

  onUpdate(h: PeerHandle, msg: UpdateMessage): void {
    const families = h.negotiated?.families ?? new Set([h.spec.family]);
    const key = h.spec.key;
    const eor = isEndOfRib(msg);
    if (eor && !families.has(eor)) {
      this.inbound.refused(key, 'familyNotNegotiated', 1, { family: eor, endOfRib: true });
      return;
    }
    if (eor) {
      this.gr.endOfRib(h.spec.key, eor);
      this.recovery.endOfRib(h.spec.key, eor);
      return;
    }
    codeCacheRouteEvent(); // the first route events after start: their code is written to the cache too
    const sc = this.inbound.screenAddresses(h.spec, this.cfg);
    const screened = screenUpdate(msg, { families, ownAddresses: sc.ownAddresses, linkLocalSession: sc.linkLocalSession });
    if (screened.familyIgnored > 0) this.inbound.refused(key, 'familyNotNegotiated', screened.familyIgnored, {});
    if (screened.badNextHop > 0) this.inbound.refused(key, 'invalidNextHop', screened.badNextHop, { nextHop: screened.badNextHopValue });
    // before this UPDATE touches the Loc-RIB: pending there means an earlier input's flush
    this.fib?.noteInput(performance.now(), this.rib.pending);
    for (const w of screened.withdraw) this.rib.withdraw(key, w.prefix, w.pathId ?? 0);
    this.rib.applyUpdate(key, screened.msg);
    this.inbound.checkImportLimit(h, this.rib.source(key)?.pathCount ?? 0);
    this.gate?.check(h);
  }

  /** Inbound routes refused from a peer, by cause (zeros when none). */
  inboundCountsOf(key: string): InboundCounters {
    return this.inbound.countsOf(key);
  }

  /**
   * ROUTE-REFRESH (RFC 2918) and its RFC 7313 subtypes. A request (subtype 0) re-sends the
   * family, framed by BoRR/EoRR when enhanced route refresh was negotiated. BoRR from the
   * peer marks its paths of the family stale; EoRR removes those not re-advertised since
   * (RFC 7313 §4.2). BoRR/EoRR without the capability, and unknown subtypes, are ignored.
   */
  onRouteRefresh(h: PeerHandle, msg: RouteRefreshMessage): void {
    const key = h.spec.key;
    const family = afiSafiToFamily(msg.afi, msg.safi);
    const enhanced = h.negotiated?.enhancedRouteRefresh === true;
    if (!family) return;
    switch (msg.subtype) {
      case RouteRefreshSubtype.Normal:
        this.out.routeRefresh(key, family, enhanced);
        return;
      case RouteRefreshSubtype.BeginningOfRouteRefresh:
        if (!enhanced) break;
        this.rib.markStale(key, family);
        return;
      case RouteRefreshSubtype.EndOfRouteRefresh: {
        if (!enhanced) break;
        // Paths still stale from a graceful restart wait for End-of-RIB, not for EoRR.
        if (this.gr.staleFamilies(key).includes(family)) return;
        const n = this.rib.sweepStale(key, family);
        if (n > 0) this.log.debug('enhanced route refresh: stale paths removed', { event: 'eorrSweep', peer: h.spec.address, family, paths: n });
        return;
      }
    }
    this.log.debug('ROUTE-REFRESH subtype ignored', { event: 'routeRefreshIgnored', peer: h.spec.address, subtype: msg.subtype, enhanced });
  }

  /** Ends restart recovery now: every peer sent End-of-RIB, or the stale time ran out. */
  endRecovery(): void {
    this.recovery.end();
  }

  /** Called once when restart recovery ends (every configured peer sent End-of-RIB). */
  onRecovered(cb: () => void): void {
    this.recovery.onRecovered(cb);
  }

  /** True until every configured peer has sent End-of-RIB once (restart recovery). */
  get recovering(): boolean {
    return this.recovery.recovering;
  }

  // ---- RIB → FIB, kernel → RIB ----

  private toFib(changes: readonly BestChange[]): void {
    routeActivity();
    if (this.fib) bestChangesToFib(changes, this.fib, this.local);
  }

  /**
   * Next hops may be reached through other interfaces now: BGPFilter chains with interface
   * rules run again (import: what the peer sent is re-filtered; export: re-evaluated).
   */
  private onInterfacesChanged(): void {
    for (const spec of this.cfg.peers) {
      if (!this.established.has(spec.key) || !chainUsesInterface(spec.importFilter)) continue;
      this.rib.setImportFilter(spec.key, importFilterOf(spec.importFilter, this.fib));
    }
    this.out.interfacesChanged();
  }

  /**
   * The configuration's spec of a peer (the first of its key, as a search of the list finds
   * it), from an index made once per configuration: a K-node mesh's sessions coming up cost
   * K look-ups, not K searches of K specs.
   */
  private configuredSpec(key: string): PeerSpec | undefined {
    let idx = this.specIndex;
    if (idx === null || idx.cfg !== this.cfg) {
      const byKey = new Map<string, PeerSpec>();
      for (const p of this.cfg.peers) if (!byKey.has(p.key)) byKey.set(p.key, p);
      this.specIndex = idx = { cfg: this.cfg, byKey };
    }
    return idx.byKey.get(key);
  }

  /** Counters for `tern status`: routes held from and advertised to a peer. */
  peerCounts(key: string): { received: number; advertised: number } {
    const src = this.rib.source(key);
    return { received: src?.pathCount ?? 0, advertised: this.out.get(key)?.size ?? 0 };
  }

  close(): void {
    this.gate?.release();
    this.out.close();
    this.gr.close();
  }
}
