// Incremental reading of a file datastore's text. The text is cut at YAML document markers
// (`---` or `...` at the start of a line, where YAML itself ends a document, even inside a
// block or quoted scalar) and each piece is decoded and validated once: an edit re-reads
// only the pieces whose text changed. The resources of unchanged pieces are the same sealed
// objects as before (snapshot.ts), so building the next snapshot and comparing it with the
// last one cost next to nothing for them, and consumers can skip them by identity.
//
// Invariants
// - The result equals parseFileContent(text) for every text: anything the piecewise reader
//   does not handle itself (JSON, anchors and aliases, directives, a decoding or validation
//   error, a duplicate name) is handed to parseFileContent, which also words every error.
// - With `affinitiesOf` (a daemon's node), another node's BlockAffinity is left out of the
//   result on both paths, undecoded into a resource and unvalidated (validate.ts
//   isOtherNodesAffinity): a 50-node file holds 150 of them, and nothing a node derives reads them.
//   A piece whose text shows it can be nothing else (otherNodesAffinityText) is not even
//   decoded; that skip may also pass over a broken document of that shape, which the daemon
//   then does not report (a full read, as `tern apply` does, still does).
// - Only the pieces of the last text read are kept (memory follows the file, not its history).
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { isSecretDocument, validateSecret, type SecretResource } from './secret.js';
import { ANCHOR_OR_ALIAS, isOtherNodesAffinity, parseFileContent, resourceKey, validateResource, type FileContent } from './validate.js';
import { seal, sealOwned } from './snapshot.js';
import type { Resource } from '../model/types.js';

/** What one piece of text holds, sealed. */
interface Piece {
  readonly resources: readonly Resource[];
  readonly secrets: readonly SecretResource[];
}

/**
 * A document marker at the start of a line; `%` directives make the reader fall back. A line
 * starts after LF or CR only: not the `m` flag, whose `^` and `$` also match at U+2028 and
 * U+2029, which YAML reads as characters of a scalar (a `---` after them is text).
 */
const MARKER = /(?<![^\r\n])(?:---|\.\.\.)(?=[ \t\r\n]|$)/;
const SPLIT = /(?<![^\r\n])(?:---|\.\.\.)(?=[ \t\r\n]|$)/g;
const DIRECTIVE = /^%/m;
/** A top-level `kind: BlockAffinity` line (a plain scalar: no tag, no quotes). */
const AFFINITY_KIND = /^kind:[ \t]+BlockAffinity[ \t]*\r?$/m;
const NO_RESOURCES: Piece = { resources: [], secrets: [] };

/**
 * True when `part` (one document, no anchors or aliases: read() checks the whole text) decodes
 * either to a BlockAffinity whose spec.node is not `node`, or to no valid resource at all:
 * - `node` does not occur in the text, and no backslash does (the one escape that could spell
 *   it otherwise), so no scalar of the document equals `node`;
 * - the word `kind` occurs once, on a line `kind: BlockAffinity` at column 0. A resource's
 *   kind is a key of its top-level mapping, and this is the only `kind` key the document can
 *   have: so its kind is BlockAffinity, or the line lies in something else (a nested flow
 *   collection, a scalar) and the document has no valid kind.
 */
export function otherNodesAffinityText(part: string, node: string): boolean {
  if (node === '' || part.includes(node) || part.includes('\\')) return false;
  const at = part.indexOf('kind');
  return at >= 0 && at === part.lastIndexOf('kind') && AFFINITY_KIND.test(part);
}

export class FileContentReader {
  private pieces = new Map<string, Piece>();

  constructor(private readonly source: string, private readonly affinitiesOf?: string) {}

  /** Parses and validates `text`; throws ConfigError exactly as parseFileContent does. */
  read(text: string): FileContent {
    const head = text.trimStart();
    if (head.startsWith('{') || head.startsWith('[') || ANCHOR_OR_ALIAS.test(text) || DIRECTIVE.test(text)) return this.whole(text);
    const parts = MARKER.test(text) ? text.split(SPLIT) : [text];
    const next = new Map<string, Piece>();
    const resources: Resource[] = [];
    const secrets: SecretResource[] = [];
    const seen = new Set<string>();
    for (const part of parts) {
      let piece = next.get(part) ?? this.pieces.get(part);
      if (!piece && this.affinitiesOf !== undefined && otherNodesAffinityText(part, this.affinitiesOf)) piece = NO_RESOURCES;
      if (!piece) {
        const decoded = this.decode(part);
        if (!decoded) return this.whole(text);
        piece = decoded;
      }
      next.set(part, piece);
      for (const r of piece.resources) {
        const key = resourceKey(r);
        if (seen.has(key)) return this.whole(text); // a duplicate: parseFileContent names both documents
        seen.add(key);
        resources.push(r);
      }
      for (const s of piece.secrets) {
        const key = `Secret/${s.metadata.name}`;
        if (seen.has(key)) return this.whole(text);
        seen.add(key);
        secrets.push(s);
      }
    }
    this.pieces = next;
    return { resources, secrets };
  }

  /**
   * The reference reader; its fresh results are sealed as decode() seals a piece's, and no
   * piece is kept, so the next read reuses none of them.
   */
  private whole(text: string): FileContent {
    const content = parseFileContent(text, this.source, { affinitiesOf: this.affinitiesOf });
    this.pieces = new Map();
    return { resources: content.resources.map((r) => sealOwned(r)), secrets: content.secrets.map((s) => seal(s)) };
  }

  /** One piece decoded and validated; undefined on any problem (the whole text is read again). */
  private decode(part: string): Piece | undefined {
    let values: unknown[];
    try {
      values = loadAll(part, undefined, { schema: CORE_SCHEMA });
    } catch {
      return undefined;
    }
    const resources: Resource[] = [];
    const secrets: SecretResource[] = [];
    try {
      for (const value of values) {
        if (value === null || value === undefined) continue;
        if (typeof value === 'object' && !Array.isArray(value) && /List$/.test(String((value as { kind?: unknown }).kind))) return undefined;
        if (isSecretDocument(value)) secrets.push(seal(validateSecret(value, { file: this.source })));
        else if (!isOtherNodesAffinity(value, this.affinitiesOf)) resources.push(sealOwned(validateResource(value, { file: this.source })));
      }
    } catch {
      return undefined;
    }
    return { resources, secrets };
  }
}
