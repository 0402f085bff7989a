// BGPFilters (typed by src/model) → the internal filter specs of src/policy/bgp-filter.ts, and the
// BGPConfiguration pieces that shape export: prefixAdvertisements (communities) and the
// service CIDRs (Calico's /staticroutes and /rejectcidrs).
import type { BgpConfiguration, BgpFilter, BgpFilterOperation, BgpFilterRule, BgpNode } from '../model/bgp.js';
import type { FilterSet } from './types.js';
import type { FilterOperationSpec, FilterRuleSpec, FilterSpec } from './filter-spec.js';
import type { PrefixCommunities } from './filter-spec.js';
import { canonicalPrefix, parsePrefix } from '../net/prefix.js';
import { errorMessage } from '../util/errors.js';
import type { Warn } from './cluster.js';

const OPERATOR = { Equal: 'equal', NotEqual: 'notEqual', In: 'in', NotIn: 'notIn' } as const;

function ruleSpec(r: BgpFilterRule): FilterRuleSpec {
  return {
    action: r.action === 'Accept' ? 'accept' : 'reject',
    ...(r.match ? { cidr: r.match.cidr, operator: OPERATOR[r.match.operator] } : {}),
    ...(r.prefixLength ? { lengths: { min: r.prefixLength.min, max: r.prefixLength.max } } : {}),
    ...(r.remotePeers ? { remotePeers: true } : {}),
    ...(r.interface ? { iface: r.interface } : {}),
    ...(r.peerType ? { peerType: r.peerType === 'iBGP' ? 'ibgp' : 'ebgp' } : {}),
    ...(r.community !== undefined ? { community: r.community } : {}),
    ...(r.asPathPrefix ? { asPathPrefix: [...r.asPathPrefix] } : {}),
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    ...(r.operations.length > 0 ? { operations: r.operations.map(operationSpec) } : {}),
  };
}

function operationSpec(op: BgpFilterOperation): FilterOperationSpec {
  switch (op.kind) {
    case 'addCommunity': return { addCommunity: op.community };
    case 'prependAsPath': return { prependAsPath: [...op.asns] };
    case 'setPriority': return { setPriority: op.priority };
  }
}

/**
 * The rules of one filter for a peer of the given type: a rule with a peerType applies only
 * to peers of that type (confd's `is_same_as` guard), and the chain no longer carries it.
 */
export function rulesForPeer(rules: readonly FilterRuleSpec[], ibgp: boolean): FilterRuleSpec[] {
  const out: FilterRuleSpec[] = [];
  for (const r of rules) {
    if (r.peerType === undefined) { out.push(r); continue; }
    if ((r.peerType === 'ibgp') !== ibgp) continue;
    const { peerType: _t, ...rest } = r;
    out.push(rest);
  }
  return out;
}

/** BGPFilters by name (typed by the model), each list compiled for its direction and family. */
export function filterSets(filters: Iterable<BgpFilter>): Map<string, FilterSet> {
  const out = new Map<string, FilterSet>();
  for (const f of filters) {
    const set: Record<string, FilterSpec> = {};
    for (const key of ['importV4', 'exportV4', 'importV6', 'exportV6'] as const) {
      const list = f[key];
      if (list.length > 0) set[key] = { name: f.name, rules: list.map(ruleSpec) };
    }
    out.set(f.name, set);
  }
  return out;
}

/**
 * confd getPrefixAdvertisementsKVPair + apply_communities: the node's own BGPConfiguration
 * (node.<name>) when it sets prefixAdvertisements, else "default" — never merged. The model
 * has resolved community names and sorted the values.
 */
export function prefixCommunities(global: BgpConfiguration | undefined, own: BgpConfiguration | undefined): PrefixCommunities[] {
  const list = own?.prefixAdvertisements ?? global?.prefixAdvertisements ?? [];
  return list.map((pa) => ({ cidr: pa.cidr, communities: [...pa.communities] }));
}

export interface ServiceRoutes {
  /** CIDRs advertised from this node (Calico /staticroutes): blackholed in BGP, never in the kernel. */
  readonly advertise: readonly string[];
  /** CIDRs no learned route may be programmed into the kernel for (Calico /rejectcidrs). */
  readonly reject: readonly string[];
  /** serviceLoadBalancerIPs, all of them: a reflector passes on routes inside them. */
  readonly loadBalancer: readonly string[];
  /** serviceExternalIPs, all of them: a reflector passes on routes inside them too. */
  readonly external: readonly string[];
}

const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * confd updateGlobalRoutes: every serviceClusterIPs CIDR (CALICO_ADVERTISE_CLUSTER_IPS,
 * comma-separated, replaces them), and every serviceExternalIPs / serviceLoadBalancerIPs CIDR
 * that is not a single address, is advertised and rejected from the kernel. A node labelled
 * exclude-from-external-load-balancers=true advertises none of them (rejects still apply).
 * With serviceLoadBalancerAggregation "Disabled" the serviceLoadBalancerIPs ranges are
 * neither advertised nor rejected (confd onLoadBalancerIPsUpdate, Calico v3.31+): calico-node
 * then sends a /32 per service, which needs the Kubernetes Services (not here).
 * Single addresses are per-service routes, which need the Kubernetes Services: not here.
 * Both lists whole, single addresses included, are the ranges a reflector passes on
 * (bird_ipam's reflector step; serviceExternalIPs there since Calico #13341).
 */
export function serviceRoutes(global: BgpConfiguration | undefined, node: BgpNode | undefined, env: Record<string, string | undefined>, warn: Warn): ServiceRoutes {
  const envClusterIPs = env.CALICO_ADVERTISE_CLUSTER_IPS;
  const list: string[] = [];
  const add = (cidr: string) => { if (!list.includes(cidr)) list.push(cidr); };
  if (envClusterIPs !== undefined && envClusterIPs.trim() !== '') {
    for (const c of envClusterIPs.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      try {
        parsePrefix(c);
        add(canonicalPrefix(c));
      } catch (err) {
        warn(`service cluster IPs ${JSON.stringify(c)}: ${errorMessage(err)}; ignored`);
      }
    }
  } else {
    for (const c of global?.serviceClusterIPs ?? []) add(c.cidr);
  }
  const notSingle = (c: { family: string; length: number }) => c.length !== (c.family === 'ipv4' ? 32 : 128);
  for (const c of (global?.serviceExternalIPs ?? []).filter(notSingle)) add(c.cidr);
  if (global?.aggregateLoadBalancerIPs !== false) for (const c of (global?.serviceLoadBalancerIPs ?? []).filter(notSingle)) add(c.cidr);
  const excluded = node?.labels[EXCLUDE_LABEL] === 'true';
  const loadBalancer = (global?.serviceLoadBalancerIPs ?? []).map((c) => c.cidr);
  const external = (global?.serviceExternalIPs ?? []).map((c) => c.cidr);
  return { advertise: excluded ? [] : list, reject: list, loadBalancer, external };
}
