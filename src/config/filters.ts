// BGPFilter resources → the internal filter specs of src/policy/bgp-filter.ts, and the
// BGPConfiguration pieces that shape export: prefixAdvertisements (communities) and the
// service CIDRs (Calico's /staticroutes and /rejectcidrs).
import type { BGPConfigurationSpec, BGPFilterResource, BGPFilterRule, NodeResource } from '../datastore/types.js';
import type { FilterSet } from '../mesh/types.js';
import type { FilterRuleSpec, FilterSpec } from '../policy/bgp-filter.js';
import type { PrefixCommunities } from '../policy/communities.js';
import { canonicalPrefix, parsePrefix } from '../net/prefix.js';
import { errorMessage } from '../util/errors.js';
import type { Warn } from './cluster.js';

const OPERATOR = { Equal: 'equal', NotEqual: 'notEqual', In: 'in', NotIn: 'notIn' } as const;

function ruleSpec(r: BGPFilterRule, family: 'ipv4' | 'ipv6'): FilterRuleSpec {
  const max = family === 'ipv4' ? 32 : 128;
  return {
    action: r.action === 'Accept' ? 'accept' : 'reject',
    ...(r.cidr && r.matchOperator ? { cidr: canonicalPrefix(r.cidr), operator: OPERATOR[r.matchOperator] } : {}),
    ...(r.cidr && r.prefixLength ? { lengths: { min: r.prefixLength.min ?? 0, max: r.prefixLength.max ?? max } } : {}),
    ...(r.source === 'RemotePeers' ? { remotePeers: true } : {}),
    ...(r.interface ? { iface: r.interface } : {}),
  };
}

/** BGPFilters by name, each list compiled for its direction and family. */
export function filterSets(filters: Iterable<BGPFilterResource>, warn: Warn): Map<string, FilterSet> {
  const out = new Map<string, FilterSet>();
  for (const f of filters) {
    const name = f.metadata.name;
    try {
      const set: Record<string, FilterSpec> = {};
      for (const key of ['importV4', 'exportV4', 'importV6', 'exportV6'] as const) {
        const list = f.spec[key];
        if (list && list.length > 0) set[key] = { name, rules: list.map((r) => ruleSpec(r, key.endsWith('V4') ? 'ipv4' : 'ipv6')) };
      }
      out.set(name, set);
    } catch (err) {
      warn(`BGPFilter ${name}: ${errorMessage(err)}; skipped`);
    }
  }
  return out;
}

/**
 * confd getPrefixAdvertisementsKVPair + apply_communities: the node's own BGPConfiguration
 * (node.<name>) when it sets prefixAdvertisements, else "default" — never merged. Names are
 * resolved in the same resource's `communities` (unknown names dropped); values deduped and
 * sorted as text.
 */
export function prefixCommunities(global: BGPConfigurationSpec, own: BGPConfigurationSpec | undefined): PrefixCommunities[] {
  const spec = own?.prefixAdvertisements !== undefined && own.prefixAdvertisements !== null ? own : global;
  const named = new Map((spec.communities ?? []).map((c) => [c.name, c.value]));
  return (spec.prefixAdvertisements ?? []).map((pa) => {
    const values = new Set<string>();
    for (const c of pa.communities ?? []) {
      const v = /^\d+(:\d+){1,2}$/.test(c) ? c : named.get(c);
      if (v !== undefined) values.add(v);
    }
    return { cidr: canonicalPrefix(pa.cidr), communities: [...values].sort() };
  });
}

export interface ServiceRoutes {
  /** CIDRs advertised from this node (Calico /staticroutes): blackholed in BGP, never in the kernel. */
  readonly advertise: readonly string[];
  /** CIDRs no learned route may be programmed into the kernel for (Calico /rejectcidrs). */
  readonly reject: readonly string[];
  /** serviceLoadBalancerIPs, all of them: a reflector passes on routes inside them. */
  readonly loadBalancer: readonly string[];
}

const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * confd updateGlobalRoutes: every serviceClusterIPs CIDR (CALICO_ADVERTISE_CLUSTER_IPS,
 * comma-separated, replaces them), and every serviceExternalIPs / serviceLoadBalancerIPs CIDR
 * that is not a single address, is advertised and rejected from the kernel. A node labelled
 * exclude-from-external-load-balancers=true advertises none of them (rejects still apply).
 * Single addresses are per-service routes, which need the Kubernetes Services: not here.
 */
export function serviceRoutes(global: BGPConfigurationSpec, node: NodeResource | undefined, env: Record<string, string | undefined>, warn: Warn): ServiceRoutes {
  const envClusterIPs = env.CALICO_ADVERTISE_CLUSTER_IPS;
  const cluster = envClusterIPs !== undefined && envClusterIPs.trim() !== ''
    ? envClusterIPs.split(',').map((c) => c.trim()).filter((c) => c !== '')
    : (global.serviceClusterIPs ?? []).map((c) => c.cidr);
  const notSingle = (c: string) => {
    const p = parsePrefix(c);
    return p.length !== (p.family === 'ipv4' ? 32 : 128);
  };
  const list: string[] = [];
  const add = (cidrs: readonly string[], what: string) => {
    for (const c of cidrs) {
      try {
        const canon = canonicalPrefix(c);
        if (!list.includes(canon)) list.push(canon);
      } catch (err) {
        warn(`${what} ${JSON.stringify(c)}: ${errorMessage(err)}; ignored`);
      }
    }
  };
  add(cluster, 'service cluster IPs');
  add((global.serviceExternalIPs ?? []).map((c) => c.cidr).filter(safe(notSingle)), 'serviceExternalIPs');
  add((global.serviceLoadBalancerIPs ?? []).map((c) => c.cidr).filter(safe(notSingle)), 'serviceLoadBalancerIPs');
  const excluded = node?.metadata.labels?.[EXCLUDE_LABEL] === 'true';
  const loadBalancer = (global.serviceLoadBalancerIPs ?? []).flatMap((c) => { try { return [canonicalPrefix(c.cidr)]; } catch { return []; } });
  return { advertise: excluded ? [] : list, reject: list, loadBalancer };
}

function safe(fn: (c: string) => boolean): (c: string) => boolean {
  return (c) => {
    try {
      return fn(c);
    } catch {
      return true; // reported by add()
    }
  };
}
