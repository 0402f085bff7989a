// Passes over the destinations of one source in a family's table, for the Loc-RIB
// (loc-rib.ts): session down, stale marking and sweeping after graceful restart, the stale
// count, a new peer's table walk over a few sources.
//
// A pass reads the source's prefix list in place (source-index.ts: entries may repeat or no
// longer hold a path of the source) and builds nothing of the source's size; each entry is
// checked against the table as it goes. A source whose list is at least 1/WALK_FACTOR of the
// table is passed over by walking the table instead: each destination once, in order, about
// ten times cheaper per entry than a lookup in a large Map (measured at 1 M routes), and still
// at most WALK_FACTOR times the source's entries.
import type { Destination } from './destination.js';
import type { PathSource } from './path.js';

/** A source holding at least 1/WALK_FACTOR of a family's table (by its prefix list) is passed over by walking the table. */
const WALK_FACTOR = 4;

/** Whether a pass over the source whose prefix list is `list` walks `table` instead. */
function walksTable(list: readonly string[], table: Map<string, Destination>): boolean {
  return list.length > 0 && list.length * WALK_FACTOR >= table.size;
}

/**
 * Calls `fn` (one function per pass: nothing is made per route) with every destination of
 * `table` that holds a path of the source whose prefix list is `list`, and maybe with others:
 * `fn` checks. A destination may come twice (the list repeats a prefix): `fn` must do nothing
 * the second time. `fn` must not add paths (what it visits is what the source held when the
 * pass began).
 */
export function forSource(table: Map<string, Destination>, list: readonly string[], fn: (dest: Destination, prefix: string) => void): void {
  if (list.length === 0) return;
  if (walksTable(list, table)) { table.forEach(fn); return; }
  for (let i = 0, end = list.length; i < end; i++) {
    const prefix = list[i]!;
    const dest = table.get(prefix);
    if (dest !== undefined) fn(dest, prefix);
  }
}

/** Number of `src`'s paths in `table` that are stale; `list` is its prefix list. */
export function countStale(table: Map<string, Destination>, list: readonly string[], src: PathSource): number {
  let n = 0;
  const count = (dest: Destination): void => {
    const paths = dest.paths;
    for (let j = 0; j < paths.length; j++) if (paths[j]!.source === src && paths[j]!.stale) n++;
  };
  // read from the list, a prefix listed twice is counted once (a set as large as a quarter of the table at most)
  const seen = walksTable(list, table) ? null : new Set<string>();
  forSource(table, list, (dest, prefix) => {
    if (seen !== null) {
      if (seen.has(prefix)) return;
      seen.add(prefix);
    }
    count(dest);
  });
  return n;
}

/**
 * Every destination of `table` that one of `sources` holds a path for, then those of `also`
 * not visited yet, each once, with its prefix; `listOf` gives a source's prefix list. A
 * source's list is read when the walk reaches it: a prefix it gains while the walk runs may
 * or may not be visited.
 */
export function* destinationsOfSources(
  table: Map<string, Destination>, sources: readonly PathSource[], listOf: (src: PathSource) => readonly string[],
  also: Iterable<[string, Destination]> = [],
): IterableIterator<[string, Destination]> {
  const seen = new Set<string>();
  for (const src of sources) {
    const list = listOf(src); // never changed in place (source-index.ts)
    for (let i = 0; i < list.length; i++) {
      const prefix = list[i]!;
      if (seen.has(prefix)) continue;
      const dest = table.get(prefix);
      if (dest === undefined || !dest.hasSource(src)) continue; // it may have left meanwhile
      seen.add(prefix);
      yield [prefix, dest];
    }
  }
  for (const [prefix, dest] of also) {
    if (seen.has(prefix)) continue;
    seen.add(prefix);
    yield [prefix, dest];
  }
}
