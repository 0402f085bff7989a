// Edits of a multi-document YAML file that keep every untouched document byte for byte
// (comments, key order, flow style): the text is cut into per-document chunks with the
// `yaml` package's CST, whose chunks concatenate back to the exact source.
import { yamlPackage } from './yaml-lib.js';
import { NAMESPACED, type Resource, type ResourceKind } from '../model/types.js';
import { decodeDocuments, resourceKey } from './validate.js';

interface Chunk {
  /** Exact source text of the document, with the comments and blank lines before it. */
  text: string;
  /** resourceKey() of the document, if it names a resource. */
  key?: string;
  empty: boolean;
}

interface Split {
  chunks: Chunk[];
  /** Comments after the last document. */
  tail: string;
}

function keyOf(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof v.kind !== 'string' || typeof v.metadata?.name !== 'string') return undefined;
  let ns = typeof v.metadata.namespace === 'string' && v.metadata.namespace !== '' ? v.metadata.namespace : undefined;
  if (ns === undefined && NAMESPACED.has(v.kind as ResourceKind)) ns = 'default';
  return resourceKey({ kind: v.kind, metadata: { name: v.metadata.name, namespace: ns } });
}

/** Cuts `text` into document chunks; throws ConfigError on a syntax error. */
function split(text: string, source: string): Split {
  const values = decodeDocuments(text, source); // throws on syntax errors
  const tokens = [...new (yamlPackage().Parser)().parse(text)];
  const chunks: Chunk[] = [];
  let pending = '';
  let docIndex = 0;
  for (const tok of tokens) {
    const s = yamlPackage().CST.stringify(tok);
    if (tok.type !== 'document') {
      pending += s;
      continue;
    }
    const value = values[docIndex++]?.value;
    chunks.push({ text: pending + s, key: keyOf(value), empty: value === null || value === undefined });
    pending = '';
  }
  return { chunks, tail: pending };
}

/** The comment/blank/`---` lines a chunk starts with, kept when its document is replaced. */
function leadingLines(text: string): string {
  const lines = text.split('\n');
  let out = '';
  for (const line of lines) {
    if (/^\s*(#.*)?$/.test(line) || /^---\s*(#.*)?$/.test(line)) out += line + '\n';
    else break;
  }
  return out;
}

function join(s: Split): string {
  const parts: string[] = [];
  for (const c of s.chunks) {
    if (c.empty && (c.text.trim() === '---' || c.text.trim() === '')) continue; // stray separators
    let t = c.text;
    if (parts.length > 0 && !/^(\s*#.*\n|\s*\n)*---/.test(t)) t = '---\n' + t;
    if (!t.endsWith('\n')) t += '\n';
    parts.push(t);
  }
  let out = parts.join('');
  if (s.tail) out += s.tail.endsWith('\n') ? s.tail : s.tail + '\n';
  return out;
}

/**
 * Merges resources into the file text: a document naming the same kind/namespace/name is
 * replaced in place (its leading comments kept), others are appended in order.
 */
export function mergeResources(text: string, resources: readonly Resource[], source: string): string {
  if (isJson(text)) return editJson(text, source, (items) => {
    for (const r of resources) {
      const at = items.findIndex((v) => keyOf(v) === resourceKey(r));
      if (at >= 0) items[at] = r;
      else items.push(r);
    }
  });
  const s = split(text, source);
  for (const r of resources) {
    const key = resourceKey(r);
    const body = yamlPackage().stringify(r, { lineWidth: 0 });
    const at = s.chunks.findIndex((c) => c.key === key);
    if (at >= 0) {
      const old = s.chunks[at]!;
      s.chunks[at] = { text: leadingLines(old.text) + body, key, empty: false };
    } else {
      const hasDoc = s.chunks.some((c) => !c.empty) || s.tail.trim() !== '';
      s.chunks.push({ text: (hasDoc ? '---\n' : '') + body, key, empty: false });
    }
  }
  return join(s);
}

/** Removes the document naming `key` (resourceKey form). */
export function removeResource(text: string, key: string, source: string): { text: string; removed: boolean } {
  if (isJson(text)) {
    let removed = false;
    const out = editJson(text, source, (items) => {
      const at = items.findIndex((v) => keyOf(v) === key);
      if (at >= 0) { items.splice(at, 1); removed = true; }
    });
    return removed ? { text: out, removed } : { text, removed };
  }
  const s = split(text, source);
  const before = s.chunks.length;
  s.chunks = s.chunks.filter((c) => c.key !== key);
  if (s.chunks.length === before) return { text, removed: false };
  return { text: join(s), removed: true };
}

function isJson(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}

/** A JSON file stays JSON: one object stays an object while it is alone, else an array. */
function editJson(text: string, source: string, edit: (items: unknown[]) => void): string {
  const wasArray = text.trimStart().startsWith('[');
  const items = decodeDocuments(text, source).map((d) => d.value);
  edit(items);
  const out = !wasArray && items.length === 1 ? items[0] : items;
  return JSON.stringify(out, null, 2) + '\n';
}
