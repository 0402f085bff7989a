// Communities added on export, as confd's apply_communities() does inside
// calico_export_to_bgp_peers: for every prefixAdvertisement whose cidr contains the route
// (`net ~ cidr`), each of its communities is added — "aa:nn" as a standard community
// (RFC 1997), "aa:nn:mm" as a large one (RFC 8092). Entries do not terminate: all matching
// entries add theirs. A value already on the route is not added twice (BIRD's set add).
// Pure.
import type { PathAttributes } from '../bgp/wire/types.js';
import { inside, matchPrefix, type MatchPrefix } from './prefix-match.js';
import type { PrefixCommunities } from '../peering/filter-spec.js';

export type { PrefixCommunities };

/** A community value's text ("aa:nn" or "aa:nn:mm", validated at the edge) as its wire form. */
export type CommunityWire = { readonly standard: number } | { readonly large: readonly [number, number, number] };

export function communityWire(value: string): CommunityWire {
  const n = value.split(':').map(Number);
  if (n.length === 3) return { large: [n[0]!, n[1]!, n[2]!] };
  return { standard: ((n[0]! << 16) | n[1]!) >>> 0 }; // RFC 1997: high 16 bits the AS, low 16 the value
}


export interface CommunityAdditions {
  readonly standard: readonly number[];
  readonly large: readonly (readonly [number, number, number])[];
  /** Identity of the additions, for memoizing. */
  readonly key: string;
}

interface Compiled {
  readonly cidr: MatchPrefix;
  readonly standard: number[];
  readonly large: [number, number, number][];
}

const compiled = new WeakMap<readonly PrefixCommunities[], Compiled[]>();

function compile(list: readonly PrefixCommunities[]): Compiled[] {
  let c = compiled.get(list);
  if (!c) {
    c = list.map((e) => {
      const standard: number[] = [];
      const large: [number, number, number][] = [];
      for (const v of e.communities) {
        const w = communityWire(v);
        if ('large' in w) large.push([...w.large]);
        else standard.push(w.standard);
      }
      return { cidr: matchPrefix(e.cidr), standard, large };
    });
    compiled.set(list, c);
  }
  return c;
}

/** The communities to add to an exported route for `prefix`, or null for none. */
export function communitiesFor(list: readonly PrefixCommunities[], prefix: string): CommunityAdditions | null {
  if (list.length === 0) return null;
  const p = matchPrefix(prefix);
  const standard: number[] = [];
  const large: [number, number, number][] = [];
  for (const e of compile(list)) {
    if (!inside(p, e.cidr)) continue;
    for (const s of e.standard) if (!standard.includes(s)) standard.push(s);
    for (const l of e.large) if (!large.some((x) => sameLarge(x, l))) large.push(l);
  }
  if (standard.length === 0 && large.length === 0) return null;
  return { standard, large, key: `${standard.join(',')}|${large.map((l) => l.join(':')).join(',')}` };
}

/** `attrs` with the additions (values already present are kept once, in place). */
export function addCommunities(attrs: PathAttributes, add: CommunityAdditions): PathAttributes {
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = { ...attrs };
  if (add.standard.length > 0) {
    const cur = attrs.communities ?? [];
    out.communities = [...cur, ...add.standard.filter((s) => !cur.includes(s))];
  }
  if (add.large.length > 0) {
    const cur = attrs.largeCommunities ?? [];
    out.largeCommunities = [...cur, ...add.large.filter((l) => !cur.some((x) => sameLarge(x, l)))];
  }
  return out;
}

function sameLarge(a: readonly number[], b: readonly number[]): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
