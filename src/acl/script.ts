// The `nft -f` text of a DesiredTable: the whole table as one transaction that replaces any
// previous version atomically, and the element-only transaction between two tables. PURE.
import type { DesiredTable, NftChain } from './render.js';

/** A quoted nft string (quotes and backslashes dropped). */
export const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;
/** nft refuses comments over 128 characters: printable ASCII, cut to fit. */
export const nftComment = (s: string): string => {
  const clean = s.replace(/[^\x20-\x7e]|["\\]/g, '?');
  return `"${clean.length > 120 ? `${clean.slice(0, 117)}...` : clean}"`;
};

/** The whole table as one `nft -f` transaction that replaces any previous version atomically. */
export function tableScript(t: DesiredTable): string {
  const g = tableScriptSteps(t);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** tableScript in steps (a yield every 256 sets or chains), for a sliced run. */
export function* tableScriptSteps(t: DesiredTable): Generator<void, string> {
  let n = 0;
  // Joined a slice at a time, so no single step joins the whole script.
  const parts: string[] = [];
  let lines = [`table ${t.family} ${t.name} {`, '}', `delete table ${t.family} ${t.name}`, `table ${t.family} ${t.name} {`];
  const slice = (): void => {
    if (lines.length > 0) parts.push(lines.join('\n'));
    lines = [];
  };
  for (const s of t.sets) {
    if ((++n & 255) === 0) {
      slice();
      yield;
    }
    lines.push(`\tset ${s.name} {`, `\t\ttype ${s.type}`);
    if (!s.type.includes('.')) lines.push('\t\tflags interval');
    if (s.elements.length > 0) lines.push(`\t\telements = { ${s.elements.join(', ')} }`);
    lines.push('\t}');
  }
  for (const c of t.chains) {
    if ((++n & 255) === 0) {
      slice();
      yield;
    }
    if (!c.hook) lines.push(...chainText(c));
  }
  for (const m of t.maps) {
    lines.push(`\tmap ${m.name} {`, '\t\ttype ifname : verdict');
    if (m.elements.length > 0) lines.push(`\t\telements = { ${m.elements.map(([i, c]) => `${quote(i)} : jump ${c}`).join(', ')} }`);
    lines.push('\t}');
  }
  for (const c of t.chains.filter((x) => x.hook)) lines.push(...chainText(c));
  lines.push('}');
  slice();
  return parts.join('\n') + '\n';
}

function chainText(c: NftChain): string[] {
  const head = [`\tchain ${c.name} {`];
  if (c.hook) head.push(`\t\t${c.hook}`);
  if (c.comment) head.push(`\t\tcomment ${nftComment(c.comment)}`);
  return [...head, ...c.rules.map((r) => `\t\t${r}`), '\t}'];
}

/**
 * When `next` differs from `prev` only in set elements, the incremental transaction that
 * moves one to the other (add/delete element); null when anything structural changed.
 */
export function elementDiffScript(prev: DesiredTable, next: DesiredTable): string | null {
  const structure = (t: DesiredTable): string => JSON.stringify({ ...t, sets: t.sets.map((s) => [s.name, s.type]) });
  if (structure(prev) !== structure(next)) return null;
  const lines: string[] = [];
  prev.sets.forEach((p, i) => {
    const n = next.sets[i]!;
    const before = new Set(p.elements);
    const after = new Set(n.elements);
    const del = p.elements.filter((e) => !after.has(e));
    const add = n.elements.filter((e) => !before.has(e));
    if (del.length > 0) lines.push(`delete element ${next.family} ${next.name} ${n.name} { ${del.join(', ')} }`);
    if (add.length > 0) lines.push(`add element ${next.family} ${next.name} ${n.name} { ${add.join(', ')} }`);
  });
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}
