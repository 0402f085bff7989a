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
}

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
