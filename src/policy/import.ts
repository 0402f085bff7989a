// Import policy: what enters the Loc-RIB from a peer.
//
// Calico imports everything (`import all` on mesh sessions, `accept` after BGPFilter on
// explicit peers); own blocks lose to the local blackhole by preference, not by filter.
// What is dropped here is protocol hygiene, not policy:
// - RFC 4456 §8 reflection loops (own ORIGINATOR_ID, own cluster id in CLUSTER_LIST);
// - RFC 4271 §9.1.2 AS loops: our own AS in the AS_PATH of an eBGP route, beyond
//   `allowOwnAs` occurrences (Calico `numAllowedLocalASNumbers`, BIRD `allow local as`);
// - LOCAL_PREF from an eBGP peer is ignored (RFC 4271 §5.1.5).
import type { PathAttributes } from '../bgp/wire/types.js';
import { reflectionLoop } from '../reflector/index.js';

export interface ImportContext {
  readonly localAs: number;
  readonly routerId: string;
  /** Our RR cluster id, when we are a reflector. */
  readonly clusterId?: string;
  /** Occurrences of our AS tolerated in AS_PATH (default 0). */
  readonly allowOwnAs?: number;
}

export interface ImportSource {
  readonly kind: 'peer' | 'local';
  readonly ebgp: boolean;
  /** This peer's own tolerance (BIRD `allow local as N` on the session), over the context's. */
  readonly allowOwnAs?: number;
}

export type ImportRejectReason = 'originatorId' | 'clusterList' | 'asLoop';

export type ImportResult = { readonly attrs: PathAttributes } | { readonly rejected: ImportRejectReason };

/** Evaluated once per UPDATE (the checks depend on attributes only, not on the prefix). */
export function importPath(ctx: ImportContext, source: ImportSource, attrs: PathAttributes): ImportResult {
  if (source.kind === 'local') return { attrs };
  const loop = reflectionLoop(attrs, ctx.routerId, ctx.clusterId);
  if (loop) return { rejected: loop };
  if (source.ebgp) {
    if (countAs(attrs, ctx.localAs) > (source.allowOwnAs ?? ctx.allowOwnAs ?? 0)) return { rejected: 'asLoop' };
    if (attrs.localPref !== undefined) {
      const { localPref: _lp, ...rest } = attrs; // RFC 4271 §5.1.5
      return { attrs: rest };
    }
  }
  return { attrs };
}

function countAs(attrs: PathAttributes, asn: number): number {
  let n = 0;
  for (const s of attrs.asPath ?? []) for (const a of s.asns) if (a === asn) n++;
  return n;
}
