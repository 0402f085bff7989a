// AclCompanion: keeps table `inet tern` equal to what the latest Snapshot asks for on this
// node. update() records the snapshot; the model and the desired table are built in ≤ 4 ms
// slices (the event loop is the BGP speaker's too), incrementally from the kept AclCache and
// RenderCache, then applied as one transaction; a periodic resync (default 10 s, streamed,
// also in slices) repairs tampering. One nft operation runs at a time; updates that arrive
// during a build or an apply are coalesced into the next one.
//
// stop() leaves the table in place by default (like Felix: restarting tern does not open or
// close the dataplane); `stop({ cleanup: true })` (CLI `tern acl --cleanup`) deletes it.
import type { Snapshot } from '../model/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { AclCache } from './incremental.js';
import { buildModelAsync, type AclProblem } from './model.js';
import { runStepsAsync } from './steps.js';
import { NftCommand, NftTable, type ApplyMode, type NftRunner } from './nft.js';
import { renderSteps, DEFAULT_RENDER, RenderCache, type DesiredTable, type RenderOptions } from './render.js';
import { IpAddrCommand, needsInterfaces, type InterfaceAddrs, type InterfaceSource } from './interfaces.js';

/** Longest synchronous stretch of model/render work before yielding to the event loop. */
const SLICE_MS = 4;

export interface AclCompanionOptions {
  readonly nodeName: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Defaults to the `nft` binary in the current network namespace. */
  readonly nft?: NftRunner;
  readonly render?: RenderOptions;
  /** Milliseconds between live-table checks; default 10 000. */
  readonly resyncMs?: number;
  /** Delay before retrying a failed apply; default 1 000. */
  readonly retryMs?: number;
  /** The host's interface addresses, for HostEndpoints without interfaceName; default `ip -j addr show`. */
  readonly interfaces?: InterfaceSource;
}

export interface AclStatus {
  readonly running: boolean;
  readonly revision: number | null;
  readonly appliedRevision: number | null;
  readonly endpoints: number;
  readonly problems: readonly AclProblem[];
  readonly lastError: string | null;
  readonly applies: number;
  readonly repairs: number;
  /** How the last change reached the kernel. */
  readonly lastMode: ApplyMode | null;
}

export class AclCompanion {
  private readonly log: Logger;
  private readonly table: NftTable;
  private readonly renderOpts: RenderOptions;
  private desired: DesiredTable | null = null;
  private pending: Snapshot | null = null;
  private revision: number | null = null;
  private appliedRevision: number | null = null;
  private endpoints = 0;
  private problems: readonly AclProblem[] = [];
  private problemsKey = '[]';
  private dirty = false;
  private busy: Promise<void> | null = null;
  private running = false;
  private resyncTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private lastError: string | null = null;
  private applies = 0;
  private repairs = 0;
  private lastMode: ApplyMode | null = null;
  /** Model and render state kept between builds: a change recomputes what it touches. */
  private modelCache = new AclCache();
  private readonly renderCache = new RenderCache();
  /** The last snapshot built and its interface addresses (null: it needed none), for the resync's re-read. */
  private built: { snapshot: Snapshot; ifaces: string | null } | null = null;

  constructor(private readonly opts: AclCompanionOptions) {
    this.log = opts.logger.child({ component: 'acl', node: opts.nodeName });
    this.table = new NftTable(opts.nft ?? new NftCommand(), this.log);
    this.renderOpts = { ...DEFAULT_RENDER, ...opts.render };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.log.info('ACL companion started', { event: 'aclStart', resyncMs: this.opts.resyncMs ?? 10_000 });
    this.scheduleResync();
    if (this.desired || this.pending) this.kick();
  }

  /**
   * Takes a new Snapshot; the kernel follows as soon as the running apply (if any) ends. The
   * model and the table are built in slices of a few milliseconds (the event loop is the BGP
   * speaker's too); snapshots that arrive meanwhile are coalesced.
   */
  update(snapshot: Snapshot): void {
    this.pending = snapshot;
    this.dirty = true;
    if (this.running) this.kick();
  }

  /** Builds the desired table from the newest pending snapshot, if any. */
  private async build(): Promise<void> {
    const snapshot = this.pending;
    if (!snapshot) return;
    this.pending = null;
    const needs = needsInterfaces(snapshot, this.opts.nodeName);
    const ifaces = needs ? await this.readInterfaces() : undefined;
    // '' when they were needed but could not be read: the next resync tries again.
    this.built = { snapshot, ifaces: needs ? (ifaces ? JSON.stringify([...ifaces]) : '') : null };
    const model = await buildModelAsync(snapshot, this.opts.nodeName, SLICE_MS, ifaces, this.modelCache);
    this.desired = await runStepsAsync(renderSteps(model, this.renderOpts, this.renderCache), SLICE_MS);
    this.revision = snapshot.revision;
    this.endpoints = model.endpoints.length;
    const key = JSON.stringify(model.problems);
    if (key !== this.problemsKey) {
      this.problemsKey = key;
      this.problems = model.problems;
      // Logged once per distinct set of problems, not on every update.
      for (const p of model.problems) this.log.warn(`${p.kind} ${p.key}: ${p.reason}`, { event: 'aclProblem', kind: p.kind, resource: p.key });
    }
  }

  private async readInterfaces(): Promise<InterfaceAddrs | undefined> {
    try {
      return await (this.opts.interfaces ?? new IpAddrCommand()).addresses();
    } catch (err) {
      this.log.warn('cannot read interface addresses', { event: 'aclInterfacesFailed', error: errorMessage(err) });
      return undefined;
    }
  }

  /** Host endpoints matched by expectedIPs follow address changes: rebuild when they moved. */
  private async refreshInterfaces(): Promise<void> {
    const b = this.built;
    if (!b || b.ifaces === null || this.pending) return;
    const now = await this.readInterfaces();
    if (now && JSON.stringify([...now]) !== b.ifaces && !this.pending) this.update(b.snapshot);
  }

  /** Resolves when no apply is running or pending (tests, and the CLI before exit). */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  async stop(opts: { cleanup?: boolean } = {}): Promise<void> {
    this.running = false;
    this.resyncTimer?.cancel();
    this.retryTimer?.cancel();
    this.resyncTimer = this.retryTimer = null;
    await this.idle();
    if (opts.cleanup) {
      await this.table.remove('inet', this.renderOpts.table ?? DEFAULT_RENDER.table);
      this.log.info('ACL table removed', { event: 'aclCleanup' });
    }
    this.log.info('ACL companion stopped', { event: 'aclStop', cleanup: opts.cleanup === true });
  }

  status(): AclStatus {
    return {
      running: this.running, revision: this.revision, appliedRevision: this.appliedRevision, endpoints: this.endpoints,
      problems: this.problems, lastError: this.lastError, applies: this.applies, repairs: this.repairs, lastMode: this.lastMode,
    };
  }

  /** Runs the live-table check now (the timer calls this); returns the drift it repaired. */
  async resyncNow(): Promise<string | null> {
    let drift: string | null = null;
    await this.exclusive(async () => {
      const desired = this.desired;
      if (!desired) return;
      drift = await this.table.resync(desired);
      if (drift !== null) {
        this.repairs++;
        this.lastMode = 'full';
        this.appliedRevision = this.revision;
        this.log.warn('ACL table repaired', { event: 'aclRepaired', reason: drift });
      }
    });
    return drift;
  }

  private kick(): void {
    if (this.busy) return;
    this.busy = this.drain().finally(() => { this.busy = null; });
  }

  private async drain(): Promise<void> {
    while (this.dirty && this.running) {
      this.dirty = false;
      try {
        while (this.pending) await this.build();
      } catch (err) {
        // A build that failed half-way may leave the kept state inconsistent: start afresh.
        this.modelCache = new AclCache();
        this.lastError = errorMessage(err);
        this.log.error('ACL model failed', { event: 'aclModelFailed', error: this.lastError });
        return;
      }
      if (!this.desired) return;
      const desired = this.desired;
      const revision = this.revision;
      try {
        const mode = await this.table.apply(desired);
        this.lastError = null;
        this.appliedRevision = revision;
        if (mode !== 'unchanged') {
          this.applies++;
          this.lastMode = mode;
          this.log.info('ACL table applied', { event: 'aclApplied', mode, revision, endpoints: this.endpoints, chains: desired.chains.length, sets: desired.sets.length });
        }
      } catch (err) {
        this.lastError = errorMessage(err);
        this.log.error('ACL apply failed', { event: 'aclApplyFailed', error: this.lastError, revision });
        this.dirty = true;
        this.scheduleRetry();
        return;
      }
    }
  }

  private async exclusive(fn: () => Promise<void>): Promise<void> {
    while (this.busy) await this.busy;
    const run = (async () => {
      try { await fn(); } catch (err) {
        this.lastError = errorMessage(err);
        this.log.error('ACL resync failed', { event: 'aclResyncFailed', error: this.lastError });
      }
    })();
    this.busy = run.finally(() => { this.busy = null; if (this.dirty && this.running) this.kick(); });
    await this.busy;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || !this.running) return;
    this.retryTimer = this.opts.clock.setTimer(this.opts.retryMs ?? 1_000, () => {
      this.retryTimer = null;
      if (this.running) this.kick();
    });
  }

  private scheduleResync(): void {
    if (!this.running) return;
    this.resyncTimer = this.opts.clock.setTimer(this.opts.resyncMs ?? 10_000, () => {
      this.resyncTimer = null;
      // The live-table check starts at once (idle() sees it); interface addresses, when a host
      // endpoint depends on them, are re-read first.
      const check = this.built?.ifaces != null ? this.refreshInterfaces().then(() => this.resyncNow()) : this.resyncNow();
      void check.finally(() => this.scheduleResync());
    });
  }
}
