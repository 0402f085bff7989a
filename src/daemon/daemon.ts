// Daemon: the composition root of one node. start() and stop() bring the parts up and
// down in dependency order: datastore → node registration → configuration → FIB →
// routing core → speaker → control socket; stop() goes the other way, sending a Cease to
// every peer and leaving installed kernel routes in place so forwarding goes on.
//
// Configuration is applied by reconciliation: every datastore snapshot is derived into a
// NodeBgpConfig and handed to each part, which changes only what differs (sessions whose
// own parameters did not change stay up with the same `since`). An invalid later snapshot
// is logged and the last good configuration stays in force.
import { Speaker } from '../bgp/speaker.js';
import { deriveNodeConfig, sameDeriveInputs, withOwnBlocksOf } from '../peering/derive.js';
import type { NodeAddress } from '../model/bgp.js';
import { secretResolver } from '../peering/secrets.js';
import { SecretsDirectory } from '../datastore/secrets-dir.js';
import { confirmedBlocks, type NodeBgpConfig } from '../peering/node-config.js';
import type { Datastore } from '../datastore/datastore.js';
import type { Snapshot } from '../model/types.js';
import { FibSync } from '../fib/fib-sync.js';
import { NetlinkKernel } from '../fib/netlink-kernel.js';
import type { NodeIdentity } from './node-address.js';
import { loadFirstSnapshot, registerSelf } from './registration.js';
import { ControlServer } from '../api/control.js';
import type { MetricsSource } from '../api/metrics.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { levelFromCalico, type Logger } from '../util/log.js';
import { DaemonError, errorMessage } from '../util/errors.js';
import { health, type HealthReply } from '../api/health.js';
import { RoutingCore, restartPolicy } from './routing.js';
import { peersStatus, routesView } from './views.js';
import type { StatusReply, RoutesReply } from '../api/types.js';
import type { AclCompanion } from '../acl/companion.js';
import type { RenderOptions } from '../acl/render.js';
import { LocalWorkloadPoller } from './local-workloads.js';
import { markStartup, startupMarks } from '../util/startup.js';
import { holdYoungGeneration, startLateTiering } from '../runtime/v8-flags.js';

export interface DaemonOptions {
  readonly datastore: Datastore;
  readonly nodeName: string;
  /** Addresses, router id, AS and log level from flags and calico-node's environment. */
  readonly identity: NodeIdentity;
  readonly socketPath: string;
  /** false: never read or write the kernel's routes (dedicated reflector, --no-fib). */
  readonly fib: boolean;
  readonly acl: boolean;
  /** Felix's DefaultEndpointToHostAction for the ACL companion (default Drop). */
  readonly aclEndpointToHostAction?: 'Drop' | 'Accept' | 'Return';
  /** Failsafe ports for host endpoint policy (FELIX_FAILSAFE*; default Felix's lists). */
  readonly aclFailsafe?: Pick<RenderOptions, 'failsafeInbound' | 'failsafeOutbound'>;
  /** --log-level given: logSeverityScreen does not change the level. */
  readonly logLevelFixed: boolean;
  readonly staleTimeMs: number;
  /** RFC 4724 §4.1 Selection_Deferral_Timer: longest wait for peers' End-of-RIB before advertising after a restart. */
  readonly selectionDeferralMs: number;
  /** HOST:PORT for Prometheus /metrics over HTTP; undefined: only `tern metrics`. */
  readonly metricsListen?: string | undefined;
  /** Where Felix's endpoint-status directory lives (CALICO_ENDPOINT_STATUS_PATH_PREFIX); undefined: no local workload peering. */
  readonly endpointStatusPrefix?: string | undefined;
  /** How often that directory is read (confd: 30 s). */
  readonly endpointStatusPollMs?: number;
  /** CALICO_ADVERTISE_CLUSTER_IPS: replaces serviceClusterIPs. */
  readonly advertiseClusterIPs?: string | undefined;
  /** DIR/<secret name>/<key> files (a mounted Secret volume) for password secretKeyRefs. */
  readonly secretsDir?: string | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class Daemon {
  private speaker: Speaker | null = null;
  private fib: FibSync | null = null;
  private core: RoutingCore | null = null;
  private control: ControlServer | null = null;
  private acl: AclCompanion | null = null;
  private cfg: NodeBgpConfig | null = null;
  /** This node's addresses as the model's typed values, for deriveNodeConfig. */
  private ownAddresses: { ipv4?: NodeAddress; ipv6?: NodeAddress } = {};
  private readonly startedAt = new Date();
  private readonly log: Logger;
  /** Why the last snapshot was rejected (cleared by the next good one). */
  private configErrors: string[] = [];
  private closeMetrics: (() => Promise<void>) | null = null;
  /** Felix's endpoint-status files: workloads selected for local BGP peers. */
  private readonly workloads: LocalWorkloadPoller;
  /** Kinds already reported as accepted and ignored (one warning per kind). */
  private readonly ignoredKindsWarned = new Set<string>();
  private recoveryTimer: TimerHandle | null = null;
  /** start() has finished: the first snapshot is applied and the speaker runs. */
  private started = false;
  /** What start() is doing, for `tern health` while not started. */
  private phase = 'starting';
  /** Restarted with forwarding state kept and End-of-RIB outstanding (RFC 4724 §4.1). */
  private recovering = false;
  private secrets: SecretsDirectory | null = null;
  /** The snapshot the running configuration was derived from (re-derived when secrets or local workloads change). */
  private snapshot: Snapshot | null = null;
  /** The peers last handed to the speaker (setPeers), by key. */
  private peerKeys = new Set<string>();

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.logger.child({ module: 'daemon', node: opts.nodeName });
    this.workloads = new LocalWorkloadPoller(opts.endpointStatusPrefix, opts.endpointStatusPollMs ?? 30_000, opts.clock, this.log);
  }

  async start(): Promise<void> {
    const { datastore } = this.opts;
    // The ACL companion's modules (nftables rendering, child processes) load only with --acl.
    const aclModule = this.opts.acl ? await import('../acl/companion.js') : null;
    markStartup('modules');
    if (this.opts.secretsDir) this.secrets = new SecretsDirectory(this.opts.secretsDir, { clock: this.opts.clock, logger: this.log });
    // The control socket (and metrics/probe server) first: `tern health --live` must answer
    // while the datastore is still unreachable at boot, or a liveness probe would restart us.
    await this.startControl();
    this.phase = 'loading the datastore';
    let snapshot = await loadFirstSnapshot(datastore, this.log);
    this.warnIgnoredKinds(snapshot);
    markStartup('snapshot');
    this.phase = 'registering the node';
    const registration = await registerSelf(datastore, snapshot, this.opts.nodeName, this.opts.identity, this.log);
    snapshot = registration.snapshot;
    this.ownAddresses = registration.ownAddresses;
    this.workloads.read();
    this.phase = 'starting BGP';
    this.snapshot = snapshot;
    const cfg = this.derive(snapshot); // throws on a node that cannot run: refuse to start
    this.cfg = cfg;
    this.applyLogLevel(cfg);
    for (const w of cfg.warnings) this.log.warn(w, { event: 'configWarning' });

    const kernel = this.opts.fib ? new NetlinkKernel() : null;
    if (kernel) {
      this.fib = new FibSync({ kernel, clock: this.opts.clock, logger: this.opts.logger, staleTimeMs: this.opts.staleTimeMs });
    }
    const core = new RoutingCore(cfg, this.fib, this.opts.clock, this.opts.logger);
    this.core = core;
    // src/runtime: the young generation held at its size from here on, before the first
    // burst (the kernel's routes adopted by the FIB, then the peers' tables). Not earlier: a
    // V8 flag changed at run time makes every Node built-in loaded afterwards miss Node's own
    // code cache, and the control socket and datastore have loaded theirs by now
    // (docs/benchmarks.md, round 2, start-up).
    holdYoungGeneration();
    startLateTiering();
    if (this.fib) {
      this.fib.setPools(cfg.pools, cfg.ipv4?.network);
      await this.fib.start();
    }
    if (kernel) {
      this.log.info(`kernel notifications: read by ${kernel.notificationsReadByLoop ? 'the event loop' : 'a poll thread'}, own echoes filtered ${kernel.ownEchoesFiltered ? 'yes' : 'no'}`, {
        event: 'kernelNotifications', readByLoop: kernel.notificationsReadByLoop, ownEchoesFiltered: kernel.ownEchoesFiltered,
      });
    }
    const adopted = this.fib ? this.fib.adoptedCount() : 0;
    const { defer, forwardingPreserved } = restartPolicy({ adopted, fib: this.fib !== null, clusterId: cfg.clusterId });
    if (defer) core.deferAdvertisement();
    const speaker = new Speaker({
      routerId: cfg.routerId,
      listenPort: cfg.listenPort,
      listenAddresses: cfg.listenAddresses,
      clock: this.opts.clock,
      logger: this.opts.logger,
      // RFC 4724 §4.1: after a restart with forwarding state kept, say so until peers resync.
      gracefulRestart: { restarting: defer, forwardingPreserved },
      onUpdate: (h, msg) => core.onUpdate(h, msg),
    });
    this.speaker = speaker;
    speaker.on('established', (h) => { markStartup('firstSession'); core.onEstablished(h); });
    speaker.on('down', (h, reason, gr) => core.onDown(h, reason, gr));
    speaker.on('routeRefresh', (h, msg) => core.onRouteRefresh(h, msg));
    await speaker.start();

    // Restarting with forwarding state kept: not ready until recovery ends (End-of-RIB).
    this.recovering = defer;
    core.onRecovered(() => {
      this.recovering = false;
      speaker.setGracefulRestartState({ restarting: false, forwardingPreserved });
    });
    core.expectEndOfRib(cfg.peers);
    // RFC 4724 §4.1: recovery (R bit, 'wait', deferred advertisement) also ends when the
    // selection deferral time runs out; without deferral, when --stale-time does (the FIB's
    // adoption has its own --stale-time timer either way).
    this.recoveryTimer = this.opts.clock.setTimer(defer ? this.opts.selectionDeferralMs : this.opts.staleTimeMs, () => core.endRecovery());
    this.apply(cfg);
    this.workloads.poll(() => { if (this.snapshot) this.reconfigure(this.snapshot); });

    if (aclModule) {
      this.acl = new aclModule.AclCompanion({
        nodeName: this.opts.nodeName, logger: this.opts.logger, clock: this.opts.clock,
        render: { ...(this.opts.aclEndpointToHostAction ? { endpointToHostAction: this.opts.aclEndpointToHostAction } : {}), ...this.opts.aclFailsafe },
      });
      this.acl.start();
      this.acl.update(snapshot);
    }

    datastore.onChange((s) => this.onSnapshot(s));
    this.secrets?.watch(() => {
      if (this.snapshot) this.reconfigure(this.snapshot);
    });
    // Status lists the datastore's problems in force (datastore.problems()); these log them.
    datastore.onError((e) => {
      this.log.error('datastore problem; keeping the last good configuration', { event: 'datastoreError', error: errorMessage(e) });
    });
    datastore.onRecovered(() => {
      this.log.info('datastore healthy again', { event: 'datastoreRecovered' });
    });

    this.started = true;
    markStartup('started');
    this.log.info('tern started', { event: 'started', routerId: cfg.routerId, asNumber: cfg.asNumber, listenPort: speaker.port, peers: cfg.peers.length, fib: this.opts.fib });
  }

  /** Control socket, and with --metrics-listen the HTTP server (/metrics, /livez, /readyz). */
  private async startControl(): Promise<void> {
    const source: MetricsSource = {
      peers: () => (this.started ? this.status().peers : []),
      prefixes: () => ({ ipv4: this.core?.rib.size('ipv4') ?? 0, ipv6: this.core?.rib.size('ipv6') ?? 0 }),
      fib: () => this.fib?.stats() ?? null,
      errors: () => (this.started ? this.status().daemon.errors.length : 0),
      datastoreWatchStalls: () => this.opts.datastore.position().watchStalls ?? 0,
    };
    // prom-client is imported on the first scrape (or now, with --metrics-listen): a node
    // that is never scraped does not pay for it at start-up.
    let registry: ReturnType<typeof import('../api/metrics.js').createMetrics> | undefined;
    const metricsModule = () => import('../api/metrics.js');
    const metrics = async () => (registry ??= (await metricsModule()).createMetrics(source));
    this.control = new ControlServer(this.opts.socketPath, {
      status: () => this.status(),
      routes: () => this.routes(),
      metrics: async () => (await metrics()).metrics(),
      health: () => this.health(),
      fibTimings: () => this.fib?.timings() ?? null,
      startup: () => startupMarks(),
    }, this.opts.logger);
    await this.control.start();
    if (this.opts.metricsListen) {
      this.closeMetrics = await (await metricsModule()).serveMetrics(this.opts.metricsListen, await metrics(), this.log, () => this.health());
    }
  }

  /** Liveness and readiness (src/api/health.ts). */
  health(): HealthReply {
    const started = this.started && this.cfg !== null && this.speaker !== null;
    return health({
      started,
      phase: this.phase,
      speakerListening: this.speaker?.port != null,
      restartRecovery: this.recovering,
      peers: started ? this.status().peers : [],
    });
  }

  private derive(snapshot: Snapshot): NodeBgpConfig {
    const routerId = this.opts.identity.routerId;
    return deriveNodeConfig(snapshot, this.opts.nodeName, {
      ...this.ownAddresses,
      ...(routerId !== undefined ? { routerId } : {}),
      ...(this.opts.advertiseClusterIPs ? { advertiseClusterIPs: this.opts.advertiseClusterIPs } : {}),
      localWorkloads: this.workloads.workloads,
      secrets: secretResolver(snapshot, this.secrets ?? undefined),
    });
  }

  /** One warning per Calico kind that tern keeps but does not act on (ignored-kinds.ts). */
  private warnIgnoredKinds(snapshot: Snapshot): void {
    const counts = new Map<string, number>();
    for (const r of snapshot.ignored.values()) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    for (const [kind, n] of counts) {
      if (this.ignoredKindsWarned.has(kind)) continue;
      this.ignoredKindsWarned.add(kind);
      this.log.warn(`${kind}: not used by tern; ${n} resource(s) accepted and ignored`, { event: 'kindIgnored', kind, resources: n });
    }
  }

  private onSnapshot(snapshot: Snapshot): void {
    this.warnIgnoredKinds(snapshot);
    const prev = this.snapshot;
    this.snapshot = snapshot;
    // Policy does not depend on the BGP configuration: a rejected one must not freeze it.
    this.acl?.update(snapshot);
    if (prev && this.cfg && this.configErrors.length === 0) {
      // Another node's block affinity (or a policy) changed: this node's configuration is the
      // same, so there is nothing to derive or reconcile.
      if (sameDeriveInputs(prev, snapshot, this.opts.nodeName)) return;
      // Only this node's own blocks changed: only they are applied (the peers stay as they are).
      const cfg = withOwnBlocksOf(this.cfg, prev, snapshot, this.opts.nodeName);
      if (cfg) { this.applyOwnBlocks(cfg); return; }
    }
    this.reconfigure(snapshot);
  }

  /** A configuration that differs from the one in force only in its own blocks (withOwnBlocksOf). */
  private applyOwnBlocks(cfg: NodeBgpConfig): void {
    const known = new Set(this.cfg?.warnings);
    for (const w of cfg.warnings) if (!known.has(w)) this.log.warn(w, { event: 'configWarning' });
    this.cfg = cfg;
    this.core!.setConfig(cfg);
    this.fib?.setOwnBlocks(confirmedBlocks(cfg));
  }

  /** Derives and applies; a changed password restarts only the sessions that use it. */
  private reconfigure(snapshot: Snapshot): void {
    let cfg: NodeBgpConfig;
    try {
      cfg = this.derive(snapshot);
    } catch (err) {
      this.configErrors = [errorMessage(err)];
      this.log.error('new configuration rejected; keeping the last good one', { event: 'configRejected', error: errorMessage(err) });
      return;
    }
    this.configErrors = [];
    const prev = this.cfg;
    if (prev && prev.routerId !== cfg.routerId) {
      this.log.warn('router id changed: takes effect after a restart', { event: 'restartNeeded' });
    }
    if (prev && (prev.listenPort !== cfg.listenPort || prev.listenAddresses.join(',') !== cfg.listenAddresses.join(','))) {
      // Sessions stay up; only the listener moves (BIRD reconfigures `listen bgp` the same way).
      const speaker = this.speaker;
      void speaker?.relisten(cfg.listenPort, cfg.listenAddresses).then(
        () => this.log.info('BGP listener moved', { event: 'listenChanged', port: cfg.listenPort, addresses: cfg.listenAddresses }),
        (err) => {
          this.configErrors = [`BGP listener on port ${cfg.listenPort}${cfg.listenAddresses.length ? ` (${cfg.listenAddresses.join(', ')})` : ''}: ${errorMessage(err)}`];
          this.log.error('cannot open the BGP listener', { event: 'listenError', error: errorMessage(err) });
        },
      );
    }
    for (const w of cfg.warnings) this.log.warn(w, { event: 'configWarning' });
    this.cfg = cfg;
    this.applyLogLevel(cfg);
    this.apply(cfg);
  }

  /** Hands a configuration to every part; each one changes only what differs. */
  private apply(cfg: NodeBgpConfig): void {
    const core = this.core!;
    const before = this.peerKeys;
    core.setConfig(cfg);
    this.fib?.setPools(cfg.pools, cfg.ipv4?.network);
    this.fib?.setOwnBlocks(confirmedBlocks(cfg));
    this.speaker?.setPeers(cfg.peers);
    const now = new Set(cfg.peers.map((p) => p.key));
    this.peerKeys = now;
    for (const k of before) if (!now.has(k)) core.peerRemoved(k);
  }

  private applyLogLevel(cfg: NodeBgpConfig): void {
    // --log-level, then BGP_LOGSEVERITYSCREEN, then the Node's and the global BGPConfiguration.
    if (!this.opts.logLevelFixed) this.opts.logger.level = levelFromCalico(this.opts.identity.logSeverityScreen ?? cfg.logSeverity);
  }

  status(): StatusReply {
    if (!this.started || !this.cfg) throw new DaemonError('ERR_STARTING', `the daemon is starting (${this.phase})`);
    const cfg = this.cfg;
    return {
      daemon: {
        node: this.opts.nodeName,
        routerId: cfg.routerId,
        asNumber: cfg.asNumber,
        listenPort: this.speaker?.port ?? cfg.listenPort,
        startedAt: this.startedAt.toISOString(),
        fib: this.opts.fib ? 'enabled' : 'disabled',
        errors: [...this.opts.datastore.problems().map(errorMessage), ...this.configErrors, ...(this.fib?.errors() ?? []), ...this.aclErrors()],
        datastore: this.opts.datastore.position(),
      },
      peers: peersStatus(this.speaker!, this.core!, cfg),
    };
  }

  private aclErrors(): string[] {
    if (!this.acl) return [];
    const st = this.acl.status();
    const out = st.problems.map((p) => `acl: ${p.kind} ${p.key}: ${p.reason}`);
    if (st.lastError) out.push(`acl: ${st.lastError}`);
    return out;
  }

  routes(): RoutesReply {
    if (!this.started) throw new DaemonError('ERR_STARTING', `the daemon is starting (${this.phase})`);
    return routesView(this.core!, this.fib);
  }

  async stop(): Promise<void> {
    this.recoveryTimer?.cancel();
    this.workloads.stop();
    this.secrets?.close();
    await this.control?.stop().catch(() => undefined);
    this.control = null;
    await this.closeMetrics?.().catch(() => undefined);
    await this.acl?.stop().catch(() => undefined);
    // Before the speaker: its sessions going down withdraw their paths, which must not
    // reach the kernel. Installed routes stay (BIRD `persist`).
    this.fib?.stop();
    await this.speaker?.stop().catch((err) => this.log.warn('speaker stop failed', { error: errorMessage(err) }));
    this.core?.close();
    await this.opts.datastore.close().catch(() => undefined);
    this.log.info('tern stopped', { event: 'stopped' });
  }
}
