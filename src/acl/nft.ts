// nftables I/O: apply a DesiredTable with `nft -f -`, read it back with `nft -j list table`,
// and repair it when the live table drifted (Felix's iptables/table.go, in nft terms).
//
// Design
// - tern owns exactly one table (`inet tern`). Every write is ONE `nft -f` transaction, so
//   the kernel sees the old table or the new one, never a mix. A change is applied
//   incrementally (diff.ts: set and map elements, changed chains flushed and refilled, new
//   and removed chains and sets); a changed hook or chain comment, or a failed incremental
//   transaction, replaces the whole table inside one transaction (add table; delete table;
//   table { … }).
// - After each apply the live table is read back: its summary (chains and rule counts, set
//   and map elements, hooks) must equal the desired summary, and its JSON (without handles),
//   per chain, set and map, becomes the baseline. After an incremental transaction only the
//   objects it wrote are read back (up to 64; more: the whole table), so a one-rule change
//   does not list a 30 000-rule table. check() compares the live table with both; resync()
//   reapplies the whole table when either differs (tampering, a flushed ruleset, a reboot of
//   nftables.service).
// - Nothing outside the tern table is ever read or written.
//
// Thread safety: callers serialize apply/resync (AclCompanion runs one operation at a time).
import { spawn } from 'node:child_process';
import { DaemonError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { incrementalSteps, type DiffStats } from './diff.js';
import { runStepsAsync } from './steps.js';
import { tableScriptSteps, type DesiredTable } from './render.js';
import { ElementSplitter, LiveTable, objects, sameSummarySteps, samePrintsSteps, stable, summarizeDesired, summarizeLive, fingerprints, type Obj } from './live.js';

export class AclError extends DaemonError {
  override readonly name = 'AclError';
}

/** How tern talks to nft; tests and `--netns` swap it. */
export interface NftRunner {
  /** Runs `nft -f -` with `script` on stdin; rejects with AclError (code ERR_ACL_NFT). */
  apply(script: string): Promise<void>;
  /** `nft -j list table FAMILY NAME`, parsed; null when the table does not exist. */
  listTable(family: string, name: string): Promise<unknown>;
  /** `nft -j list chain|set|map FAMILY TABLE NAME`, parsed; null when it does not exist. Optional: without it read-back lists the table. */
  listObject?(kind: 'chain' | 'set' | 'map', family: string, table: string, name: string): Promise<unknown>;
  /** Several objects in one nft process (`nft -j -i`); the parsed listing of each that exists. Optional. */
  listObjects?(objects: readonly ObjectRef[], family: string, table: string): Promise<unknown[]>;
  /**
   * `nft -j list table`, each top-level object handed to `onObject` as its text arrives (no
   * whole-table JSON.parse on the event loop); false when the table does not exist. Optional.
   */
  listTableStream?(family: string, name: string, onObject: (o: Obj) => void): Promise<boolean>;
}

export interface ObjectRef { readonly kind: 'chain' | 'set' | 'map'; readonly name: string }

export interface NftCommandOptions {
  readonly binary?: string;
  /** Run nft inside this network namespace (`ip netns exec NAME nft …`). */
  readonly netns?: string;
}

/** The real nft binary as a child process. */
export class NftCommand implements NftRunner {
  constructor(private readonly opts: NftCommandOptions = {}) {}

  private run(args: string[], stdin?: string, onStdout?: (chunk: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
    const nft = this.opts.binary ?? 'nft';
    const [cmd, argv] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, nft, ...args]] : [nft, args];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, argv, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const out = child.stdout?.setEncoding('utf8');
      if (out && onStdout) {
        // One chunk per event-loop turn: several chunks read in one poll would be handled in
        // one synchronous stretch (a 15 000-rule table is megabytes of JSON).
        out.on('data', (d: string) => {
          onStdout(d);
          out.pause();
          setImmediate(() => out.resume());
        });
      } else out?.on('data', (d: string) => { stdout += d; });
      child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', (err) => reject(new AclError('ERR_ACL_NFT', `cannot run ${cmd}: ${err.message}`)));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      // nft may exit before reading all of stdin (a syntax error): its exit code tells.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    });
  }

  async apply(script: string): Promise<void> {
    const r = await this.run(['-f', '-'], script);
    if (r.code !== 0) throw new AclError('ERR_ACL_NFT', `nft -f failed: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`, { stderr: r.stderr });
  }

  async listTable(family: string, name: string): Promise<unknown> {
    const r = await this.run(['-j', 'list', 'table', family, name]);
    if (r.code !== 0) {
      if (/No such file or directory|does not exist/i.test(r.stderr)) return null;
      throw new AclError('ERR_ACL_NFT', `nft list table failed: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout) as unknown;
  }

  /**
   * One `nft -j -i` process lists every object: one JSON document per line for each that
   * exists (a missing one is an error on stderr and no line). One process instead of one
   * per object: spawning is most of the CPU an incremental apply costs. (`nft -j -f` with
   * list commands fails on nft 1.0.6 for chains that name sets; interactive mode does not.)
   */
  async listObjects(objects: readonly ObjectRef[], family: string, table: string): Promise<unknown[]> {
    if (objects.length === 0) return [];
    const r = await this.run(['-j', '-i'], objects.map((o) => `list ${o.kind} ${family} ${table} ${o.name}\n`).join(''));
    const out: unknown[] = [];
    for (const line of r.stdout.split('\n')) if (line.trim() !== '') out.push(JSON.parse(line) as unknown);
    if (r.code !== 0 && out.length === 0) throw new AclError('ERR_ACL_NFT', `nft -i list failed: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    return out;
  }

  async listTableStream(family: string, name: string, onObject: (o: Obj) => void): Promise<boolean> {
    let failed: unknown = null;
    const split = new ElementSplitter((text) => {
      if (failed !== null) return;
      try { onObject(JSON.parse(text) as Obj); } catch (err) { failed = err; }
    });
    const r = await this.run(['-j', 'list', 'table', family, name], undefined, (chunk) => split.feed(chunk));
    if (r.code !== 0) {
      if (/No such file or directory|does not exist/i.test(r.stderr)) return false;
      throw new AclError('ERR_ACL_NFT', `nft list table failed: ${r.stderr.trim()}`);
    }
    if (failed !== null) throw new AclError('ERR_ACL_NFT', `nft list table: unreadable output (${errorMessage(failed)})`);
    return true;
  }

  async listObject(kind: 'chain' | 'set' | 'map', family: string, table: string, name: string): Promise<unknown> {
    const r = await this.run(['-j', 'list', kind, family, table, name]);
    if (r.code !== 0) {
      if (/No such file or directory|does not exist/i.test(r.stderr)) return null;
      throw new AclError('ERR_ACL_NFT', `nft list ${kind} failed: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout) as unknown;
  }
}

export { summarizeDesired, summarizeLive, fingerprints, fingerprint, type TableSummary } from './live.js';

export type ApplyMode = 'full' | 'incremental' | 'unchanged';

/** Above this many changed objects an incremental apply reads the whole table back. */
const TARGETED_READBACK_MAX = 256;

/** Desired state, last applied state and the live-table baseline for table `inet tern`. */
export class NftTable {
  private applied: DesiredTable | null = null;
  /** Per-object fingerprints of the live table as last verified (empty: not verified). */
  private baseline = new Map<string, string>();

  constructor(private readonly runner: NftRunner, private readonly logger: Logger) {}

  /**
   * Makes the live table equal `desired`; one transaction, incremental when possible. The
   * objects written are read back and must match (all of them after a full replace).
   */
  async apply(desired: DesiredTable, force = false): Promise<ApplyMode> {
    const prev = this.applied;
    const stats: { value?: DiffStats } = {};
    const diff = !force && prev && this.baseline.size > 0 ? await runStepsAsync(incrementalSteps(prev, desired, stats), 4) : null;
    if (diff === '') {
      this.applied = desired;
      return 'unchanged';
    }
    let mode: ApplyMode = 'full';
    this.applied = null;
    const baseline = this.baseline;
    this.baseline = new Map();
    if (diff !== null) {
      try {
        await this.runner.apply(diff);
        mode = 'incremental';
      } catch (err) {
        this.logger.warn('incremental nft update failed, replacing the table', { event: 'aclIncrementalFailed', error: errorMessage(err) });
      }
    }
    if (mode === 'full') await this.runner.apply(await runStepsAsync(tableScriptSteps(desired), 4));
    const st = stats.value;
    const touched = st ? st.touched.chains.length + st.touched.sets.length + st.touched.maps.length : Infinity;
    if (mode === 'incremental' && st && (this.runner.listObjects || this.runner.listObject) && touched <= TARGETED_READBACK_MAX) {
      await this.readBackObjects(desired, st, baseline);
    } else {
      const live = await this.readLive(desired);
      if (live === null || !(await runStepsAsync(sameSummarySteps(live.summary, desired), 4))) {
        throw new AclError('ERR_ACL_READBACK', `table ${desired.family} ${desired.name} differs from what was just applied`);
      }
      this.baseline = await runStepsAsync(live.printsSteps(), 4);
    }
    this.applied = desired;
    return mode;
  }

  /** Reads back only what an incremental transaction wrote; the rest keeps its baseline. */
  private async readBackObjects(desired: DesiredTable, st: DiffStats, old: Map<string, string>): Promise<void> {
    const refs: ObjectRef[] = [
      ...st.touched.chains.map((name) => ({ kind: 'chain' as const, name })),
      ...st.touched.sets.map((name) => ({ kind: 'set' as const, name })),
      ...st.touched.maps.map((name) => ({ kind: 'map' as const, name })),
    ];
    const docs: unknown[] = [];
    if (this.runner.listObjects) docs.push(...await this.runner.listObjects(refs, desired.family, desired.name));
    else {
      for (const o of refs) {
        const json = await this.runner.listObject!(o.kind, desired.family, desired.name, o.name);
        if (json !== null) docs.push(json);
      }
    }
    const live = { nftables: docs.flatMap(objects) };
    const names = (kind: 'chain' | 'set' | 'map'): Set<string> => new Set(refs.filter((o) => o.kind === kind).map((o) => o.name));
    const chains = names('chain');
    const sets = names('set');
    const maps = names('map');
    // The desired summary of the touched objects only (not of the whole table).
    const want = summarizeDesired({ ...desired, chains: desired.chains.filter((c) => chains.has(c.name)), sets: desired.sets.filter((x) => sets.has(x.name)), maps: desired.maps.filter((m) => maps.has(m.name)) });
    if (stable(summarizeLive(live)) !== stable(want)) {
      throw new AclError('ERR_ACL_READBACK', `table ${desired.family} ${desired.name}: what was just written differs from what was applied (or is missing)`);
    }
    const next = new Map(old);
    for (const n of st.deleted.chains) next.delete(`chain:${n}`);
    for (const n of st.deleted.sets) next.delete(`set:${n}`);
    for (const [k, v] of fingerprints(live)) next.set(k, v);
    this.baseline = next;
  }

  /** Null when the live table matches; otherwise why not. */
  async check(): Promise<string | null> {
    const want = this.applied;
    if (!want) return 'nothing applied yet';
    const live = await this.readLive(want);
    if (live === null) return 'table is missing';
    if (!(await runStepsAsync(sameSummarySteps(live.summary, want), 4))) return 'chains, sets or maps differ';
    if (!(await runStepsAsync(samePrintsSteps(live, this.baseline), 4))) return 'rules differ';
    return null;
  }

  /** The whole live table, read object by object when the runner streams; null when it does not exist. */
  private async readLive(t: DesiredTable): Promise<LiveTable | null> {
    const live = new LiveTable();
    if (this.runner.listTableStream) return (await this.runner.listTableStream(t.family, t.name, (o) => live.add(o))) ? live : null;
    const json = await this.runner.listTable(t.family, t.name);
    if (json === null) return null;
    for (const o of objects(json)) live.add(o);
    return live;
  }

  /** Reapplies the whole table when the live one drifted; returns the drift reason, if any. */
  async resync(desired: DesiredTable): Promise<string | null> {
    const drift = this.applied ? await this.check() : 'nothing applied yet';
    if (drift === null) return null;
    await this.apply(desired, true);
    return drift;
  }

/** Deletes table `inet tern` (and only it), if it exists. */
  async remove(family = 'inet', name = 'tern'): Promise<void> {
    this.applied = null;
    this.baseline = new Map();
    if ((await this.runner.listTable(family, name)) === null) return;
    await this.runner.apply(`delete table ${family} ${name}\n`);
  }
}
