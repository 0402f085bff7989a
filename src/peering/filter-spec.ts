// The BGPFilter and community specs peering derives from the resources (plain data,
// JSON-comparable): src/policy/bgp-filter.ts and src/policy/communities.ts evaluate them.

export interface FilterRuleSpec {
  readonly action: 'accept' | 'reject';
  readonly cidr?: string;
  readonly operator?: 'equal' | 'notEqual' | 'in' | 'notIn';
  /** Set when the rule has a prefixLength: the cidr is the set cidr{minLength,maxLength}. */
  readonly lengths?: { readonly min: number; readonly max: number };
  /** Only routes learned from BGP peers. */
  readonly remotePeers?: boolean;
  /** Interface pattern (BIRD wildcard). */
  readonly iface?: string;
  /**
   * Set in a FilterSet only: chains (PeerSpec) hold the rules of the peer's type, without it
   * (confd guards such a rule with `is_same_as`, true when the peer AS is the local AS).
   */
  readonly peerType?: 'ebgp' | 'ibgp';
  /** A community the route must carry, "aa:nn" (standard) or "aa:nn:mm" (large). */
  readonly community?: string;
  /** AS numbers the route's AS_PATH must begin with. */
  readonly asPathPrefix?: readonly number[];
  /** Route priority the route must have: LOCAL_PREF = 2147483647 − priority (src/policy/priority.ts). */
  readonly priority?: number;
  /** Applied in order when this Accept rule matches; absent when none. */
  readonly operations?: readonly FilterOperationSpec[];
}

/** A route modification of an Accept rule. */
export type FilterOperationSpec =
  | { readonly addCommunity: string }
  /** The path afterwards begins with these AS numbers, in this order. */
  | { readonly prependAsPath: readonly number[] }
  /** LOCAL_PREF becomes 2147483647 − setPriority. */
  | { readonly setPriority: number };

/** One BGPFilter's rules for one direction and family. */
export interface FilterSpec {
  readonly name: string;
  readonly rules: readonly FilterRuleSpec[];
}

/** A peer's filters for one direction, in BGPPeer.filters order. */
export type FilterChainSpec = readonly FilterSpec[];

export interface PrefixCommunities {
  readonly cidr: string;
  /** Community values, "aa:nn" or "aa:nn:mm", already resolved from names. */
  readonly communities: readonly string[];
}
