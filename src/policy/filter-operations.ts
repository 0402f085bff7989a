// The operations of a BGPFilter Accept rule (Calico v3.32+), applied in order to the route's
// attributes as confd renders them into BIRD statements before `accept;`:
// - addCommunity "aa:nn": `bgp_community.add((aa, nn))` (RFC 1997); "aa:nn:mm":
//   `bgp_large_community.add((aa, nn, mm))` (RFC 8092). A value already there is not added
//   again (BIRD's set add); a new one goes last.
// - prependASPath [a, b]: `bgp_path.prepend(b); bgp_path.prepend(a);`, so the path begins
//   a, b. On export this runs before the protocol's own changes: toward eBGP the local AS
//   still goes in front (RFC 4271 §5.1.2), as BIRD adds it after the export filter.
// - setPriority v: `bgp_local_pref = 2147483647 − v` (route priority, priority.ts). On import
//   the LOCAL_PREF takes part in best-path selection (RFC 4271 §9.1.1); on export it is sent
//   to iBGP peers only (§5.1.5).
// Pure: returns new attributes.
import type { PathAttributes } from '../bgp/wire/types.js';
import type { FilterOperationSpec } from '../peering/filter-spec.js';
import { communityWire } from './communities.js';
import { prependAs } from './export.js';
import { invertPriority } from './priority.js';

export function applyOperations(attrs: PathAttributes, ops: readonly FilterOperationSpec[]): PathAttributes {
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = { ...attrs };
  for (const op of ops) {
    if ('addCommunity' in op) addCommunity(out, op.addCommunity);
    else if ('setPriority' in op) out.localPref = invertPriority(op.setPriority);
    else for (let i = op.prependAsPath.length - 1; i >= 0; i--) out.asPath = prependAs(out.asPath ?? [], op.prependAsPath[i]!);
  }
  return out;
}

function addCommunity(out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] }, value: string): void {
  const w = communityWire(value);
  if ('large' in w) {
    const l: [number, number, number] = [...w.large];
    const cur = out.largeCommunities ?? [];
    if (!cur.some((x) => x[0] === l[0] && x[1] === l[1] && x[2] === l[2])) out.largeCommunities = [...cur, l];
    return;
  }
  const std = w.standard;
  const cur = out.communities ?? [];
  if (!cur.includes(std)) out.communities = [...cur, std];
}
