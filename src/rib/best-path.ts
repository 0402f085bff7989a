// Best path selection as an ordered list of named elimination steps.
//
// RFC 4271 §9.1.2.2 describes selection as successive elimination over the candidate set,
// and that is what select() does: each step keeps only the candidates that are best by
// its criterion, and the step that leaves a single candidate is the reason. Elimination
// (rather than pairwise folding) keeps the MED step, which only compares paths from the
// same neighbour AS, independent of path order (RFC 4271 §9.1.2.2 c).
//
// Multipath (ECMP, BIRD `merge paths`): the candidates left after the eBGP/iBGP step,
// restricted to the best path's neighbour AS when it is eBGP, up to MAX_MULTIPATH.
// Stale (GR) paths are ordinary candidates (RFC 4724 §4.2).
import type { Path } from './path.js';
import { clusterListLength, originatorKey } from '../policy/reflection.js';
import { SOURCE_KERNEL_EXTRA } from '../policy/export.js';

export const MAX_MULTIPATH = 16;

export type BestPathReason =
  | 'onlyPath'
  | 'localOrigin'
  | 'localPref'
  | 'asPathLength'
  | 'origin'
  | 'med'
  | 'ebgpOverIbgp'
  | 'originatorId'
  | 'clusterListLength'
  | 'peerAddress'
  | 'tieBreak';

export interface Selection {
  readonly best: Path | null;
  readonly reason: BestPathReason | null;
  /** Best first; just [best] when there is no equal-cost alternative. */
  readonly multipath: readonly Path[];
}

export interface SelectOptions {
  /** Used as the neighbour AS of paths with an empty AS_PATH (RFC 4271 §9.1.2.2 c). */
  readonly localAs: number;
  readonly maxMultipath?: number;
}

type Step = readonly [BestPathReason, (paths: Path[], o: SelectOptions) => Path[]];

/** Keeps the candidates with the highest value of `score`. */
function keepMax(score: (p: Path) => number): (paths: Path[]) => Path[] {
  return (paths) => {
    let best = -Infinity;
    for (const p of paths) best = Math.max(best, score(p));
    return paths.filter((p) => score(p) === best);
  };
}

function keepMin(score: (p: Path) => number): (paths: Path[]) => Path[] {
  return keepMax((p) => -score(p));
}

/** AS_PATH length: AS_SET counts 1, confederation segments 0 (RFC 4271 §9.1.2.2 a, RFC 5065 §5.3). */
export function asPathLength(p: Path): number {
  let n = 0;
  for (const s of p.attrs.attrs.asPath ?? []) {
    if (s.type === 2) n += s.asns.length;
    else if (s.type === 1) n += 1;
  }
  return n;
}

/** The AS the path was received from: first AS of a leading AS_SEQUENCE, else the local AS. */
export function neighborAs(p: Path, localAs: number): number {
  const first = p.attrs.attrs.asPath?.[0];
  return first !== undefined && first.type === 2 && first.asns.length > 0 ? (first.asns[0] ?? localAs) : localAs;
}

function medStep(paths: Path[], o: SelectOptions): Path[] {
  // RFC 4271 §9.1.2.2 c: within each neighbour AS, remove paths whose MED is higher than
  // the lowest MED of that AS; a missing MED is 0 (RFC 4271 §5.1.4, BIRD default).
  const lowest = new Map<number, number>();
  for (const p of paths) {
    const as = neighborAs(p, o.localAs);
    const med = p.attrs.attrs.med ?? 0;
    const cur = lowest.get(as);
    if (cur === undefined || med < cur) lowest.set(as, med);
  }
  return paths.filter((p) => (p.attrs.attrs.med ?? 0) === lowest.get(neighborAs(p, o.localAs)));
}

function compareAddressKeys(paths: Path[]): Path[] {
  let best: string | undefined;
  for (const p of paths) if (best === undefined || p.source.addressKey < best) best = p.source.addressKey;
  return paths.filter((p) => p.source.addressKey === best);
}

function tieBreak(paths: Path[]): Path[] {
  // Not in the RFC: makes the choice deterministic among paths of one source (ADD-PATH,
  // or several local sources): lowest source key, then lowest path id.
  let best = paths[0];
  for (const p of paths) {
    if (!best) break;
    if (p.source.key < best.source.key || (p.source.key === best.source.key && p.pathId < best.pathId)) best = p;
  }
  return best ? [best] : [];
}

export const STEPS: readonly Step[] = [
  // BIRD preference: static/kernel routes (200) win over BGP (100) before any BGP step;
  // routes held only for BGPFilter export (SOURCE_KERNEL_EXTRA) lose to any BGP path, so
  // holding them never changes what is installed or advertised for a prefix a peer sends.
  ['localOrigin', keepMax((p) => (p.source.kind !== 'local' ? 0 : p.source.key === SOURCE_KERNEL_EXTRA ? -1 : 1))],
  // RFC 4271 §9.1.1: degree of preference = LOCAL_PREF, default 100 when absent.
  ['localPref', keepMax((p) => p.attrs.attrs.localPref ?? 100)],
  // RFC 4271 §9.1.2.2 a: shortest AS_PATH.
  ['asPathLength', keepMin(asPathLength)],
  // RFC 4271 §9.1.2.2 b: lowest ORIGIN (IGP < EGP < INCOMPLETE).
  ['origin', keepMin((p) => p.attrs.attrs.origin ?? 2)],
  // RFC 4271 §9.1.2.2 c: lowest MED among paths from the same neighbour AS.
  ['med', medStep],
  // RFC 4271 §9.1.2.2 d: eBGP-learned over iBGP-learned.
  ['ebgpOverIbgp', keepMax((p) => (p.source.ebgp ? 1 : 0))],
  // RFC 4271 §9.1.2.2 e (IGP cost to the next hop) is skipped: next hops are resolved
  // on-link or recursively with equal cost in Calico networks.
  // RFC 4271 §9.1.2.2 f with RFC 4456 §9: lowest ORIGINATOR_ID, or router id when absent.
  ['originatorId', keepMin((p) => originatorKey(p.attrs.attrs, p.source.routerIdNum))],
  // RFC 4456 §9: shortest CLUSTER_LIST.
  ['clusterListLength', keepMin((p) => clusterListLength(p.attrs.attrs))],
  // RFC 4271 §9.1.2.2 g: lowest peer address.
  ['peerAddress', compareAddressKeys],
  ['tieBreak', tieBreak],
];

const EBGP_STEP = STEPS.findIndex(([name]) => name === 'ebgpOverIbgp');

/** Selects the best path and the multipath set among `paths`. */
export function select(paths: readonly Path[], o: SelectOptions): Selection {
  const only = paths[0];
  if (only === undefined) return { best: null, reason: null, multipath: [] };
  if (paths.length === 1) return { best: only, reason: 'onlyPath', multipath: [only] };
  let cands = [...paths];
  let reason: BestPathReason = 'tieBreak';
  let equalCost: Path[] = [];
  for (let i = 0; i < STEPS.length; i++) {
    const step = STEPS[i]!;
    const next = step[1](cands, o);
    if (next.length < cands.length && next.length === 1) reason = step[0];
    cands = next;
    if (i === EBGP_STEP) equalCost = cands;
    if (cands.length === 1) {
      if (i < EBGP_STEP) equalCost = cands;
      break;
    }
  }
  const best = cands[0]!;
  return { best, reason, multipath: multipathOf(best, equalCost, o) };
}

function multipathOf(best: Path, equalCost: readonly Path[], o: SelectOptions): Path[] {
  const max = o.maxMultipath ?? MAX_MULTIPATH;
  const out = [best];
  // Local routes (blackholes for own blocks) are never merged into ECMP.
  if (equalCost.length <= 1 || best.source.kind === 'local') return out;
  const nas = neighborAs(best, o.localAs);
  for (const p of equalCost) {
    if (out.length >= max) break;
    if (p === best || p.source.kind === 'local') continue;
    // eBGP multipath only among paths from the same neighbour AS.
    if (best.source.ebgp && neighborAs(p, o.localAs) !== nas) continue;
    out.push(p);
  }
  return out;
}
