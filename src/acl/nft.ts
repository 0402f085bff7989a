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
//   and map elements, hooks) must equal the desired summary, and its full JSON (without
//   handles) becomes the baseline. check() compares the live table with both; resync()
//   reapplies the whole table when either differs (tampering, a flushed ruleset, a reboot of
//   nftables.service).
// - Nothing outside the tern table is ever read or written.
//
// Thread safety: callers serialize apply/resync (AclCompanion runs one operation at a time).
import { spawn } from 'node:child_process';
import { canonicalAddress, canonicalPrefix } from '../net/prefix.js';
import { DaemonError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { incrementalScript } from './diff.js';
import { tableScript, type DesiredTable } from './render.js';

export class AclError extends DaemonError {
  override readonly name = 'AclError';
}

/** How tern talks to nft; tests and `--netns` swap it. */
export interface NftRunner {
  /** Runs `nft -f -` with `script` on stdin; rejects with AclError (code ERR_ACL_NFT). */
  apply(script: string): Promise<void>;
  /** `nft -j list table FAMILY NAME`, parsed; null when the table does not exist. */
  listTable(family: string, name: string): Promise<unknown>;
}

export interface NftCommandOptions {
  readonly binary?: string;
  /** Run nft inside this network namespace (`ip netns exec NAME nft …`). */
  readonly netns?: string;
}

/** The real nft binary as a child process. */
export class NftCommand implements NftRunner {
  constructor(private readonly opts: NftCommandOptions = {}) {}

  private run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const nft = this.opts.binary ?? 'nft';
    const [cmd, argv] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, nft, ...args]] : [nft, args];
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, argv, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
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
}

/** What must match between desired and live: chain rule counts and hooks, set and map contents. */
export interface TableSummary {
  readonly chains: Record<string, number>;
  readonly hooks: Record<string, string>;
  readonly sets: Record<string, string[]>;
  readonly maps: Record<string, string[]>;
}

export function summarizeDesired(t: DesiredTable): TableSummary {
  const s: TableSummary = { chains: {}, hooks: {}, sets: {}, maps: {} };
  for (const c of t.chains) {
    s.chains[c.name] = c.rules.length;
    if (c.hook) s.hooks[c.name] = /priority filter ([+-]) (\d+)/.exec(c.hook)?.slice(1).join('') ?? c.hook;
  }
  for (const x of t.sets) s.sets[x.name] = [...x.elements].sort();
  for (const m of t.maps) s.maps[m.name] = m.elements.map(([i, c]) => `${i}:${c}`).sort();
  return s;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

function elementText(e: unknown, bits: number): string {
  if (isObj(e) && Array.isArray(e.concat)) {
    const [addr, ...rest] = e.concat as unknown[];
    return [canonicalAddress(String(addr)), ...rest.map(String)].join(' . ');
  }
  if (isObj(e) && 'elem' in e && isObj(e.elem)) return elementText(e.elem.val, bits);
  if (typeof e === 'string') return canonicalPrefix(`${e}/${bits}`);
  if (isObj(e) && isObj(e.prefix)) return canonicalPrefix(`${String(e.prefix.addr)}/${String(e.prefix.len)}`);
  if (isObj(e) && Array.isArray(e.range)) return `${String(e.range[0])}-${String(e.range[1])}`;
  return JSON.stringify(e);
}

function objects(json: unknown): Obj[] {
  return isObj(json) && Array.isArray(json.nftables) ? (json.nftables as unknown[]).filter(isObj) : [];
}

export function summarizeLive(json: unknown): TableSummary {
  const s: TableSummary = { chains: {}, hooks: {}, sets: {}, maps: {} };
  for (const o of objects(json)) {
    if (isObj(o.chain)) {
      const name = String(o.chain.name);
      s.chains[name] ??= 0;
      if (o.chain.hook !== undefined) {
        const prio = Number(o.chain.prio);
        s.hooks[name] = `${prio < 0 ? '-' : '+'}${Math.abs(prio)}`;
      }
    } else if (isObj(o.rule)) {
      const name = String(o.rule.chain);
      s.chains[name] = (s.chains[name] ?? 0) + 1;
    } else if (isObj(o.set)) {
      const type = Array.isArray(o.set.type) ? o.set.type.join(' . ') : String(o.set.type);
      const bits = type.startsWith('ipv6_addr') ? 128 : 32;
      s.sets[String(o.set.name)] = (Array.isArray(o.set.elem) ? o.set.elem : []).map((e) => elementText(e, bits)).sort();
    } else if (isObj(o.map)) {
      const elems = Array.isArray(o.map.elem) ? (o.map.elem as unknown[]) : [];
      s.maps[String(o.map.name)] = elems.map((e) => {
        const [k, v] = Array.isArray(e) ? e : [];
        const target = isObj(v) && isObj(v.jump) ? String(v.jump.target) : JSON.stringify(v);
        return `${String(k)}:${target}`;
      }).sort();
    }
  }
  return s;
}

/** The live table as comparable text: everything but handles and the metainfo header. */
export function fingerprint(json: unknown): string {
  return JSON.stringify(objects(json).filter((o) => !('metainfo' in o)), (k, v: unknown) => (k === 'handle' ? undefined : v));
}

const stable = (s: TableSummary): string => JSON.stringify(s, (_k, v: unknown) => (isObj(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));

export type ApplyMode = 'full' | 'incremental' | 'unchanged';

/** Desired state, last applied state and the live-table baseline for table `inet tern`. */
export class NftTable {
  private applied: DesiredTable | null = null;
  private baseline: string | null = null;

  constructor(private readonly runner: NftRunner, private readonly logger: Logger) {}

  /** Makes the live table equal `desired`; one transaction, incremental when possible. */
  async apply(desired: DesiredTable, force = false): Promise<ApplyMode> {
    const prev = this.applied;
    if (!force && prev && JSON.stringify(prev) === JSON.stringify(desired) && this.baseline !== null) return 'unchanged';
    let mode: ApplyMode = 'full';
    const diff = !force && prev && this.baseline !== null ? incrementalScript(prev, desired) : null;
    this.applied = null;
    this.baseline = null;
    if (diff !== null) {
      try {
        if (diff !== '') await this.runner.apply(diff);
        mode = 'incremental';
      } catch (err) {
        this.logger.warn('incremental nft update failed, replacing the table', { event: 'aclIncrementalFailed', error: errorMessage(err) });
      }
    }
    if (mode === 'full') await this.runner.apply(tableScript(desired));
    const live = await this.runner.listTable(desired.family, desired.name);
    const want = stable(summarizeDesired(desired));
    if (live === null || stable(summarizeLive(live)) !== want) {
      throw new AclError('ERR_ACL_READBACK', `table ${desired.family} ${desired.name} differs from what was just applied`);
    }
    this.applied = desired;
    this.baseline = fingerprint(live);
    return mode;
  }

  /** Null when the live table matches; otherwise why not. */
  async check(): Promise<string | null> {
    const want = this.applied;
    if (!want) return 'nothing applied yet';
    const live = await this.runner.listTable(want.family, want.name);
    if (live === null) return 'table is missing';
    if (stable(summarizeLive(live)) !== stable(summarizeDesired(want))) return 'chains, sets or maps differ';
    if (fingerprint(live) !== this.baseline) return 'rules differ';
    return null;
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
    this.baseline = null;
    if ((await this.runner.listTable(family, name)) === null) return;
    await this.runner.apply(`delete table ${family} ${name}\n`);
  }
}
