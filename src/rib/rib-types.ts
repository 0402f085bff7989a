// Loc-RIB's public types: the change notification, the read view, options and errors.
import type { Family } from '../net/prefix.js';
import type { PathAttributes } from '../bgp/wire/types.js';
import { DaemonError } from '../util/errors.js';
import type { AttrSet, AttrSetTable } from './attr-set.js';
import type { Destination } from './destination.js';
import type { Path } from './path.js';
import type { BestPathReason } from './best-path.js';
import type { ImportResult, ImportSource } from '../policy/import.js';
import type { FilterOperationSpec } from '../policy/bgp-filter.js';

export interface BestChange {
  readonly prefix: string;
  readonly family: Family;
  readonly best: Path | null;
  /** Best first; empty when the prefix is gone. */
  readonly multipath: readonly Path[];
  readonly previousBest: Path | null;
  readonly reason: BestPathReason | null;
}

/** A prefix's current selection, as the Adj-RIB-Out's table walk reads it. */
export interface Selected {
  readonly best: Path | null;
  /** Best first; empty when the prefix has no path. */
  readonly multipath: readonly Path[];
}

export type BestChangeListener = (changes: readonly BestChange[]) => void;

/**
 * A source's import filter (BGPFilter chain), run on the route as received: null rejects it;
 * otherwise it is accepted, changed by `operations` when the accepting rule has some
 * (`operationsKey`: their identity, for memoizing the changed attributes).
 */
export type ImportFilter = (prefix: string, attrs: AttrSet) => ImportAccept | null;

export interface ImportAccept {
  readonly operations?: readonly FilterOperationSpec[];
  readonly operationsKey?: string;
}

/** Accepted as received. */
export const ACCEPT_AS_RECEIVED: ImportAccept = Object.freeze({});

export interface RouteView {
  readonly prefix: string;
  readonly family: Family;
  readonly paths: readonly Path[];
  readonly best: Path | null;
  readonly multipath: readonly Path[];
  readonly reason: BestPathReason | null;
}

export interface LocRibOptions {
  readonly localAs: number;
  readonly routerId: string;
  readonly clusterId?: string;
  readonly allowOwnAs?: number;
  readonly maxMultipath?: number;
  /** When flushes happen: after the current event loop turn (default) or only on flush(). */
  readonly schedule?: 'immediate' | 'manual';
  readonly attrSets?: AttrSetTable;
  /** Replaces the default import policy (src/policy/import.ts). */
  readonly importPolicy?: (source: ImportSource, attrs: PathAttributes) => ImportResult;
  /**
   * Called with an exception thrown by a scheduled flush or by a best-change listener. The
   * other listeners still run; nothing reaches the event loop. Default: rethrown after every
   * listener ran (manual flushes in tests see it).
   */
  readonly onError?: (err: unknown) => void;
}

export class RibError extends DaemonError {
  override readonly name = 'RibError';
}

export interface ApplyResult {
  announced: number;
  withdrawn: number;
  /** Set when import policy rejected the UPDATE's attributes (its NLRI were withdrawn). */
  rejected?: string;
}

/** The read view of one destination. */
export function view(prefix: string, dest: Destination, family = familyOfPrefix(prefix)): RouteView {
  return { prefix, family, paths: dest.paths, best: dest.best, multipath: dest.multipath, reason: dest.reason };
}

/** The family of a canonical prefix string. */
export function familyOfPrefix(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6' : 'ipv4';
}
