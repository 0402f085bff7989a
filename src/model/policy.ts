// The policy kinds as typed values: what src/acl compiles. Every text field of a
// GlobalNetworkPolicy, NetworkPolicy, Profile or Tier is parsed here once
// (model/parse-policy.ts), and of a WorkloadEndpoint, HostEndpoint, NetworkSet or
// GlobalNetworkSet too (model/parse-endpoints.ts): actions checked, protocols as numbers (net/protocol.ts), ports as
// ranges with port names kept as names (net/port.ts), nets canonical and split by family,
// selectors compiled (selector/), ICMP type and code checked, `types` resolved to the
// directions the policy applies in. What depends on endpoints (the members a selector picks,
// the numbers a port name stands for) is src/acl's business.
import type { Selector } from '../selector/index.js';
import type { ModelError } from './errors.js';

export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';
export type PolicyDirection = 'ingress' | 'egress';

export interface PortRange { readonly from: number; readonly to: number }
/** Canonical prefixes by family, deduped and sorted. */
export interface Nets { readonly v4: readonly string[]; readonly v6: readonly string[] }
/** A ports list: numeric ranges and port names, each in the order written. */
export interface RulePorts { readonly ranges: readonly PortRange[]; readonly names: readonly string[] }
export interface IcmpMatch { readonly type: number; readonly code?: number }

/** One side of a rule (source or destination); null where the resource does not set the field. */
export interface RuleSide {
  readonly nets: Nets | null;
  readonly notNets: Nets | null;
  readonly selector: Selector | null;
  readonly notSelector: Selector | null;
  readonly namespaceSelector: Selector | null;
  /** Only when names or a selector is given. */
  readonly serviceAccounts: { readonly names: readonly string[] | null; readonly selector: Selector | null } | null;
  readonly ports: RulePorts | null;
  readonly notPorts: RulePorts | null;
  /** A Kubernetes service match (needs endpoint data tern does not have). */
  readonly services: { readonly name: string; readonly namespace?: string } | null;
}

export interface PolicyRule {
  readonly action: RuleAction;
  readonly ipVersion: 4 | 6 | null;
  readonly protocol: number | null;
  readonly notProtocol: number | null;
  readonly icmp: IcmpMatch | null;
  readonly notIcmp: IcmpMatch | null;
  readonly source: RuleSide;
  readonly destination: RuleSide;
  /** The rule has an HTTP match. */
  readonly http: boolean;
}

/** A GlobalNetworkPolicy, NetworkPolicy or Profile (a Profile: both directions, no selector). */
export interface Policy {
  readonly kind: 'GlobalNetworkPolicy' | 'NetworkPolicy' | 'Profile';
  /** The datastore key: name, or "namespace/name" for a NetworkPolicy. */
  readonly key: string;
  readonly namespace: string | undefined;
  /** spec.tier, "default" when unset. */
  readonly tier: string;
  readonly order: number | undefined;
  /** spec.selector compiled (all() when unset); null when refused (see selectorRefused). */
  readonly selector: Selector | null;
  /** GlobalNetworkPolicy only. */
  readonly namespaceSelector: Selector | null;
  readonly serviceAccountSelector: Selector | null;
  /** The directions the policy takes part in (spec.types, or Calico's default from the rules). */
  readonly applies: Readonly<Record<PolicyDirection, boolean>>;
  readonly doNotTrack: boolean;
  readonly preDNAT: boolean;
  readonly applyOnForward: boolean;
  /** Empty when rulesRefused is set. */
  readonly rules: Readonly<Record<PolicyDirection, readonly PolicyRule[]>>;
  /** A policy selector that does not parse: the policy selects nothing. */
  readonly selectorRefused?: ModelError;
  /** The first rule refused: the rules cannot be used as written. */
  readonly rulesRefused?: ModelError;
  /** Profile only: labels it gives its endpoints. */
  readonly labelsToApply?: Readonly<Record<string, string>>;
}

export interface Tier {
  readonly name: string;
  readonly order: number | undefined;
  readonly defaultAction: 'Deny' | 'Pass';
}

/** The policy kinds of one Snapshot as typed values, keyed as the Snapshot keys them. */
export interface PolicyModel {
  readonly globalNetworkPolicies: ReadonlyMap<string, Policy>;
  readonly networkPolicies: ReadonlyMap<string, Policy>;
  readonly profiles: ReadonlyMap<string, Policy>;
  readonly tiers: ReadonlyMap<string, Tier>;
  readonly workloadEndpoints: ReadonlyMap<string, Endpoint>;
  readonly hostEndpoints: ReadonlyMap<string, Endpoint>;
  readonly networkSets: ReadonlyMap<string, NetworkSet>;
  readonly globalNetworkSets: ReadonlyMap<string, NetworkSet>;
}

/** A named port of an endpoint: name, protocol number, port. */
export interface NamedPort { readonly name: string; readonly protocol: number; readonly port: number }

/**
 * A WorkloadEndpoint or HostEndpoint as the policy side reads it: its own labels (profile
 * labels are applied by src/acl), addresses canonical by family, named ports typed.
 */
export interface Endpoint {
  readonly kind: 'WorkloadEndpoint' | 'HostEndpoint';
  readonly key: string;
  /** WorkloadEndpoint: metadata.namespace ("default" when unset); HostEndpoint: null. */
  readonly namespace: string | null;
  readonly node: string;
  /** spec.interfaceName as written ('' when unset). */
  readonly iface: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly profiles: readonly string[];
  /** ipNetworks (WorkloadEndpoint) or expectedIPs as host routes (HostEndpoint). */
  readonly addrs: Nets;
  /** HostEndpoint: expectedIPs, canonical addresses. */
  readonly expectedIPs: readonly string[];
  /** WorkloadEndpoint: allowSpoofedSourcePrefixes. */
  readonly allowSpoofed: Nets;
  readonly ports: readonly NamedPort[];
  /** WorkloadEndpoint: spec.orchestrator ("k8s" when unset). */
  readonly orchestrator: string;
  readonly serviceAccountName: string | null;
  /** Entries refused (and left out above). */
  readonly refused: readonly ModelError[];
}

/** A NetworkSet (namespace set) or GlobalNetworkSet (namespace null). */
export interface NetworkSet {
  readonly kind: 'NetworkSet' | 'GlobalNetworkSet';
  readonly key: string;
  readonly namespace: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly nets: Nets;
  /** Entries refused (the nets are then empty). */
  readonly refused: readonly ModelError[];
}
