// Imports between the folders of src/ go one way: no folder imports another that imports it
// back, directly or through others. Reads every import (static and dynamic) of every source
// file, folds them into a graph of top-level folders and reports each cycle with the files
// that make it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import t from 'tap';

const SRC = resolve(new URL('../../src', import.meta.url).pathname);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const folderOf = (file: string): string => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '.';
};

/** folder → folder → files of the first folder that import the second. */
export function folderGraph(files: readonly string[]): Map<string, Map<string, Set<string>>> {
  const graph = new Map<string, Map<string, Set<string>>>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm)) {
      const from = folderOf(file);
      const to = folderOf(resolve(dirname(file), m[1]!));
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, Set<string>>();
      graph.set(from, edges);
      const via = edges.get(to) ?? new Set<string>();
      edges.set(to, via);
      via.add(relative(SRC, file));
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan). */
export function cycles(graph: Map<string, Map<string, Set<string>>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

t.test('the check finds a cycle when there is one', async (t) => {
  const g = new Map([
    ['a', new Map([['b', new Set(['a/x.ts'])]])],
    ['b', new Map([['c', new Set(['b/y.ts'])]])],
    ['c', new Map([['a', new Set(['c/z.ts'])]])],
    ['d', new Map([['a', new Set(['d/w.ts'])]])],
  ]);
  t.same(cycles(g), [['a', 'b', 'c']]);
});

t.test('no two folders of src/ import each other, directly or through others', async (t) => {
  const graph = folderGraph(sources(SRC));
  t.ok(graph.get('daemon')?.has('bgp'), 'the scan sees the daemon importing the speaker');
  const found = cycles(graph).map((scc) => {
    const edges = scc.flatMap((a) => scc.filter((b) => graph.get(a)?.has(b)).map((b) => `${a} -> ${b} (${[...graph.get(a)!.get(b)!].join(', ')})`));
    return `${scc.join(' <-> ')}: ${edges.join('; ')}`;
  });
  t.same(found, [], 'import cycles between folders');
});

t.test('the edge and the core point inward: model and peering import no runtime layer', async (t) => {
  const graph = folderGraph(sources(SRC));
  const allowed: Record<string, readonly string[]> = {
    model: ['net', 'selector', 'util'],
    selector: ['util'],
    peering: ['model', 'net', 'selector', 'util'],
    settings: ['util'],
    runtime: [],
    net: [],
  };
  for (const [folder, ok] of Object.entries(allowed)) {
    const extra = [...(graph.get(folder)?.keys() ?? [])].filter((to) => !ok.includes(to));
    t.same(extra, [], `${folder} imports only ${ok.join(', ') || 'nothing in src/'}`);
  }
});

t.test('bench/, scripts/ and lab/ import nothing from test/ (what they share lives in lab/)', async (t) => {
  const ROOT = resolve(SRC, '..');
  const files = ['bench', 'scripts', 'lab'].flatMap((d) => sources(join(ROOT, d)));
  t.ok(files.some((f) => f.endsWith(join('scripts', 'demo.ts'))), 'the scan sees the demo');
  const bad = files.flatMap((file) => {
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm)]
      .filter((m) => relative(ROOT, resolve(dirname(file), m[1]!)).split(sep)[0] === 'test')
      .map((m) => `${relative(ROOT, file)} -> ${m[1]}`);
  });
  t.same(bad, [], 'imports into test/');
});
