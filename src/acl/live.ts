// The live table, compared with what tern applied: summaries (chain rule counts and hooks,
// set and map elements) and per-object fingerprints (the JSON of every chain with its rules,
// set and map, without handles). PURE. The streaming forms keep each synchronous stretch to
// about one object's worth of work, so reading a large table does not block the event loop:
// - ElementSplitter cuts `nft -j list table` output into its top-level objects as the bytes
//   arrive, so a 15 000-rule table is never one JSON.parse on the event loop;
// - LiveTable accumulates the summary and fingerprints object by object;
// - sameSummarySteps / samePrintsSteps compare in steps (runStepsAsync slices them).
import { canonicalAddress, canonicalPrefix } from '../net/prefix.js';
import type { DesiredTable } from './render.js';

/** What must match between desired and live: chain rule counts and hooks, set and map contents. */
export interface TableSummary {
  readonly chains: Record<string, number>;
  readonly hooks: Record<string, string>;
  readonly sets: Record<string, string[]>;
  readonly maps: Record<string, string[]>;
}

/** Standard nft priority names (inet family) and their numbers, as `nft -j` lists them. */
const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** "… priority mangle + 10; …" → "-140" (the live table's form). */
function hookPriority(hook: string): string {
  const m = /priority (\w+) ([+-]) (\d+)/.exec(hook);
  const base = m ? PRIORITY_NAMES[m[1]!] : undefined;
  if (!m || base === undefined) return hook;
  const prio = base + (m[2] === '-' ? -1 : 1) * Number(m[3]);
  return `${prio < 0 ? '-' : '+'}${Math.abs(prio)}`;
}

export function summarizeDesired(t: DesiredTable): TableSummary {
  const s: TableSummary = { chains: {}, hooks: {}, sets: {}, maps: {} };
  for (const c of t.chains) {
    s.chains[c.name] = c.rules.length;
    if (c.hook) s.hooks[c.name] = hookPriority(c.hook);
  }
  for (const x of t.sets) s.sets[x.name] = [...x.elements].sort();
  for (const m of t.maps) s.maps[m.name] = m.elements.map(([i, c]) => `${i}:${c}`).sort();
  return s;
}

export type Obj = Record<string, unknown>;
export const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

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

export function objects(json: unknown): Obj[] {
  return isObj(json) && Array.isArray(json.nftables) ? (json.nftables as unknown[]).filter(isObj) : [];
}

export function summarizeLive(json: unknown): TableSummary {
  const s: TableSummary = { chains: {}, hooks: {}, sets: {}, maps: {} };
  for (const o of objects(json)) summarizeObject(s, o);
  return s;
}

/** Adds one listed object to a live summary. */
export function summarizeObject(s: TableSummary, o: Obj): void {
  {
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
}

const noHandle = (key: string, v: unknown): unknown => (key === 'handle' ? undefined : v);

/** The fingerprint key of a listed object: `chain:NAME` (a chain and its rules), `set:NAME`, `map:NAME`. */
function printKey(o: Obj): string | null {
  if (isObj(o.chain)) return `chain:${String(o.chain.name)}`;
  if (isObj(o.rule)) return `chain:${String(o.rule.chain)}`;
  if (isObj(o.set)) return `set:${String(o.set.name)}`;
  if (isObj(o.map)) return `map:${String(o.map.name)}`;
  return null;
}

/** Comparable text of every chain (with its rules), set and map, without handles: `chain:NAME` → text. */
export function fingerprints(json: unknown): Map<string, string> {
  const t = new LiveTable();
  for (const o of objects(json)) t.add(o);
  return t.prints();
}

/** A live table read object by object: its summary and fingerprints. */
export class LiveTable {
  readonly summary: TableSummary = { chains: {}, hooks: {}, sets: {}, maps: {} };
  private readonly parts = new Map<string, string[]>();

  add(o: Obj): void {
    summarizeObject(this.summary, o);
    const key = printKey(o);
    if (key === null) return;
    let l = this.parts.get(key);
    if (!l) this.parts.set(key, (l = []));
    l.push(JSON.stringify(o, noHandle));
  }

  get size(): number {
    return this.parts.size;
  }

  /** The fingerprint of one key (see prints), undefined when absent. */
  print(key: string): string | undefined {
    const l = this.parts.get(key);
    return l && `[${l.join(',')}]`;
  }

  keys(): IterableIterator<string> {
    return this.parts.keys();
  }

  /** prints() in steps (a yield every 256 keys). */
  *printsSteps(): Generator<void, Map<string, string>> {
    const out = new Map<string, string>();
    let n = 0;
    for (const [k, l] of this.parts) {
      if ((++n & 255) === 0) yield;
      out.set(k, `[${l.join(',')}]`);
    }
    return out;
  }

  /** Same text as JSON.stringify of each key's object list (without handles). */
  prints(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, l] of this.parts) out.set(k, `[${l.join(',')}]`);
    return out;
  }
}

/**
 * Cuts the `nft -j list …` document `{"nftables": [ {…}, {…} ]}` into the text of each
 * top-level object as chunks arrive; keeps only the unfinished object between chunks.
 */
export class ElementSplitter {
  private buf = '';
  private depth = 0;
  private inStr = false;
  private esc = false;

  constructor(private readonly onElement: (text: string) => void) {}

  feed(chunk: string): void {
    const s = this.buf + chunk;
    let start = this.buf.length > 0 ? 0 : -1;
    for (let i = this.buf.length; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.inStr) {
        if (this.esc) this.esc = false;
        else if (c === 92) this.esc = true;
        else if (c === 34) this.inStr = false;
        continue;
      }
      if (c === 34) this.inStr = true;
      else if (c === 123 || c === 91) {
        if (this.depth === 2 && c === 123) start = i;
        this.depth++;
      } else if (c === 125 || c === 93) {
        this.depth--;
        if (this.depth === 2 && c === 125 && start >= 0) {
          this.onElement(s.slice(start, i + 1));
          start = -1;
        }
      }
    }
    this.buf = start >= 0 ? s.slice(start) : '';
  }
}

/** Whether a live summary equals the desired table's, in steps (a yield every 64 objects). */
export function* sameSummarySteps(live: TableSummary, want: DesiredTable): Generator<void, boolean> {
  let n = 0;
  if (Object.keys(live.chains).length !== want.chains.length || Object.keys(live.sets).length !== want.sets.length || Object.keys(live.maps).length !== want.maps.length) return false;
  if (Object.keys(live.hooks).length !== want.chains.filter((c) => c.hook).length) return false;
  for (const c of want.chains) {
    if ((++n & 255) === 0) yield;
    if (live.chains[c.name] !== c.rules.length) return false;
    if (c.hook && live.hooks[c.name] !== hookPriority(c.hook)) return false;
  }
  const same = (a: readonly string[] | undefined, b: readonly string[]): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
  for (const x of want.sets) {
    if ((++n & 63) === 0) yield;
    if (!same(live.sets[x.name], [...x.elements].sort())) return false;
  }
  for (const m of want.maps) {
    if (!same(live.maps[m.name], m.elements.map(([i, c]) => `${i}:${c}`).sort())) return false;
  }
  return true;
}

/** Whether live fingerprints equal the baseline, in steps. */
export function* samePrintsSteps(live: LiveTable, baseline: ReadonlyMap<string, string>): Generator<void, boolean> {
  if (live.size !== baseline.size) return false;
  let n = 0;
  for (const k of live.keys()) {
    if ((++n & 255) === 0) yield;
    if (baseline.get(k) !== live.print(k)) return false;
  }
  return true;
}

/** The live table as comparable text: everything but handles and the metainfo header. */
export function fingerprint(json: unknown): string {
  return JSON.stringify(objects(json).filter((o) => !('metainfo' in o)), (k, v: unknown) => (k === 'handle' ? undefined : v));
}

export const stable = (s: TableSummary): string => JSON.stringify(s, (_k, v: unknown) => (isObj(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));

