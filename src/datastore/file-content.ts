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
// - Only the pieces of the last text read are kept (memory follows the file, not its history).
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { isSecretDocument, validateSecret, type SecretResource } from './secret.js';
import { ANCHOR_OR_ALIAS, parseFileContent, resourceKey, validateResource, type FileContent } from './validate.js';
import { seal } from './snapshot.js';
import type { Resource } from '../model/types.js';

/** What one piece of text holds, sealed. */
interface Piece {
  readonly resources: readonly Resource[];
  readonly secrets: readonly SecretResource[];
}

/** A document marker at the start of a line; `%` directives make the reader fall back. */
const MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/m;
const SPLIT = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;
const DIRECTIVE = /^%/m;

export class FileContentReader {
  private pieces = new Map<string, Piece>();

  constructor(private readonly source: string) {}

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

  /** The reference reader; its resources are sealed so the next read can reuse none of them. */
  private whole(text: string): FileContent {
    const content = parseFileContent(text, this.source);
    this.pieces = new Map();
    return content;
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
        else resources.push(seal(validateResource(value, { file: this.source })));
      }
    } catch {
      return undefined;
    }
    return { resources, secrets };
  }
}
