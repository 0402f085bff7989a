// Incremental nft transactions: from the last applied DesiredTable to the next one, writing
// only what changed — set and map elements, chains whose rules changed (flush + refill), new
// chains and sets, and deletions of what is gone. PURE; nft.ts runs the script as one
// `nft -f` transaction, so the kernel still sees the old table or the new one.
//
// Invariants
// - null when the change cannot be written incrementally: a base chain's hook, a set's type,
//   or an existing chain's comment changed. The caller then replaces the whole table.
// - Order inside the script: new sets and new (empty) chains first, so every jump and @set
//   the new rules name exists; then elements and rules; deletions of chains, then of sets,
//   last, when nothing refers to them any more.
import type { DesiredTable, NftChain, NftSet } from './render.js';

import { nftComment as comment, quote as q } from './script.js';

function sameRules(a: NftChain, b: NftChain): boolean {
  if (a === b || a.rules === b.rules) return true;
  if (a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) if (a.rules[i] !== b.rules[i]) return false;
  return true;
}

export interface DiffStats {
  readonly chainsWritten: number;
  readonly chainsAdded: number;
  readonly chainsDeleted: number;
  readonly elements: number;
  /** Objects the script creates or changes, for a targeted read-back. */
  readonly touched: { readonly chains: readonly string[]; readonly sets: readonly string[]; readonly maps: readonly string[] };
  readonly deleted: { readonly chains: readonly string[]; readonly sets: readonly string[] };
}

/** The transaction moving `prev` to `next`, '' when they are equal, null when it must be a full replace. */
export function incrementalScript(prev: DesiredTable, next: DesiredTable, stats?: { value?: DiffStats }): string | null {
  const g = incrementalSteps(prev, next, stats);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** incrementalScript in steps (a yield every 256 chains or sets), for a sliced run. */
export function* incrementalSteps(prev: DesiredTable, next: DesiredTable, stats?: { value?: DiffStats }): Generator<void, string | null> {
  let step = 0;
  if (prev.family !== next.family || prev.name !== next.name) return null;
  const T = `${next.family} ${next.name}`;
  const prevSets = yield* byName(prev.sets);
  const nextSets = yield* byName(next.sets);
  const prevChains = yield* byName(prev.chains);
  const nextChains = yield* byName(next.chains);
  for (const [name, c] of nextChains) {
    if ((++step & 255) === 0) yield;
    const p = prevChains.get(name);
    if ((c.hook || p?.hook) && (!p || p.hook !== c.hook)) return null;
    if (p && p.comment !== c.comment) return null;
  }
  for (const [name, p] of prevChains) {
    if ((++step & 255) === 0) yield;
    if (p.hook && !nextChains.has(name)) return null;
  }
  for (const [name, s] of nextSets) {
    if ((++step & 255) === 0) yield;
    const p = prevSets.get(name);
    if (p && p.type !== s.type) return null;
  }
  const head: string[] = [];
  const body: string[] = [];
  const tail: string[] = [];
  let elements = 0;
  const touched = { chains: [] as string[], sets: [] as string[], maps: [] as string[] };
  const gone = { chains: [] as string[], sets: [] as string[] };
  let written = 0;
  let added = 0;
  let deleted = 0;
  for (const [name, s] of nextSets) {
    if ((++step & 63) === 0) yield;
    const p = prevSets.get(name);
    if (!p) {
      head.push(`add set ${T} ${name} { type ${s.type};${s.type.includes('.') ? '' : ' flags interval;'} }`);
      if (s.elements.length > 0) body.push(`add element ${T} ${name} { ${s.elements.join(', ')} }`);
      elements += s.elements.length;
      touched.sets.push(name);
      continue;
    }
    const changed = elementDiff(T, p, s, body);
    if (changed > 0) touched.sets.push(name);
    elements += changed;
  }
  for (const [name, c] of nextChains) {
    if ((++step & 63) === 0) yield;
    const p = prevChains.get(name);
    if (!p) {
      head.push(`add chain ${T} ${name}${c.comment ? ` { comment ${comment(c.comment)}; }` : ''}`);
      added++;
    } else if (sameRules(p, c)) continue;
    else body.push(`flush chain ${T} ${name}`);
    written++;
    touched.chains.push(name);
    for (const r of c.rules) body.push(`add rule ${T} ${name} ${r}`);
  }
  const prevMaps = new Map(prev.maps.map((m) => [m.name, m]));
  for (const m of next.maps) {
    const p = prevMaps.get(m.name);
    if (!p) return null;
    const before = new Map(p.elements.map(([k, v]) => [k, v]));
    const after = new Map(m.elements.map(([k, v]) => [k, v]));
    const del = [...before].filter(([k, v]) => after.get(k) !== v).map(([k]) => q(k));
    const add = [...after].filter(([k, v]) => before.get(k) !== v).map(([k, v]) => `${q(k)} : jump ${v}`);
    if (del.length > 0) body.push(`delete element ${T} ${m.name} { ${del.join(', ')} }`);
    if (add.length > 0) body.push(`add element ${T} ${m.name} { ${add.join(', ')} }`);
    elements += del.length + add.length;
    if (del.length + add.length > 0) touched.maps.push(m.name);
  }
  if (prev.maps.length !== next.maps.length) return null;
  for (const name of prevChains.keys()) {
    if ((++step & 255) === 0) yield;
    if (nextChains.has(name)) continue;
    // Flush everything first (rules of a deleted chain may jump to another deleted chain).
    body.push(`flush chain ${T} ${name}`);
    tail.push(`delete chain ${T} ${name}`);
    gone.chains.push(name);
    deleted++;
  }
  for (const name of prevSets.keys()) {
    if ((++step & 255) === 0) yield;
    if (nextSets.has(name)) continue;
    tail.push(`delete set ${T} ${name}`);
    gone.sets.push(name);
  }
  if (stats) stats.value = { chainsWritten: written, chainsAdded: added, chainsDeleted: deleted, elements, touched, deleted: gone };
  // Joined 1 024 lines at a time, so no single step joins the whole script.
  const parts: string[] = [];
  let count = 0;
  for (const list of [head, body, tail]) {
    for (let i = 0; i < list.length; i += 1024) {
      parts.push(list.slice(i, i + 1024).join('\n'));
      count += Math.min(1024, list.length - i);
      yield;
    }
  }
  return parts.join('\n') + (count > 0 ? '\n' : '');
}

/** A name → object map, built in steps (a yield every 1 024 objects). */
function* byName<T extends { name: string }>(list: readonly T[]): Generator<void, Map<string, T>> {
  const m = new Map<string, T>();
  for (let i = 0; i < list.length; i++) {
    m.set(list[i]!.name, list[i]!);
    if ((i & 1023) === 1023) yield;
  }
  yield;
  return m;
}

function elementDiff(T: string, p: NftSet, n: NftSet, out: string[]): number {
  if (p.elements === n.elements) return 0;
  const before = new Set(p.elements);
  const after = new Set(n.elements);
  const del = p.elements.filter((e) => !after.has(e));
  const add = n.elements.filter((e) => !before.has(e));
  if (del.length > 0) out.push(`delete element ${T} ${n.name} { ${del.join(', ')} }`);
  if (add.length > 0) out.push(`add element ${T} ${n.name} { ${add.join(', ')} }`);
  return del.length + add.length;
}
