// Host endpoints of this node (Felix's host endpoint policy): which interface each HostEndpoint
// polices and which tiers of policy apply to it at each of Felix's four stages, plus the
// failsafe ports that keep an operator from locking themselves out.
//
// Invariants (as Felix's calculation graph, event_sequencer tierInfoToProtoTierInfo)
// - A HostEndpoint takes part when its spec.node is this node: `interfaceName: <name>`, `*`
//   for every host interface that is not a workload interface and not claimed by another
//   HostEndpoint, or no interfaceName: every interface holding one of its expectedIPs (the
//   host's addresses come from interfaces.ts). Of two for one interface the smaller name wins.
// - A policy (GlobalNetworkPolicy; a NetworkPolicy never selects a host endpoint) goes to one
//   stage: doNotTrack → untracked (both directions, tiers end in Pass), else preDNAT → preDNAT
//   (ingress only, tiers end in Pass), else normal; a normal policy with applyOnForward also
//   goes to the forward stage. Tier order and policy order are the workload ones.
// - doNotTrack on a `*` host endpoint is ignored (Felix does the same) and reported.
// - Without the host's interface addresses (explain, or `ip` failed) a HostEndpoint without
//   interfaceName is reported and not enforced.
// - Failsafe ports default to Felix's FailsafeInboundHostPorts / FailsafeOutboundHostPorts.
import type { Endpoint } from '../model/policy.js';
import { DaemonError } from '../util/errors.js';
import type { Labels } from '../selector/index.js';
import type { Entity } from './entities.js';
import type { Direction, Nets } from './rules.js';

/** Felix's four places for host endpoint policy, in the order a packet meets them. */
export type HostStage = 'untracked' | 'preDNAT' | 'normal' | 'forward';
export const HOST_STAGES: readonly HostStage[] = ['untracked', 'preDNAT', 'normal', 'forward'];

/** One tier's policy list at one stage and direction (same shape as a workload's TierPlan). */
export interface HostTierPlan {
  readonly tier: string;
  readonly defaultAction: 'Deny' | 'Pass';
  readonly policies: readonly string[];
}

export type HostPlans = Readonly<Record<HostStage, Readonly<Record<Direction, readonly HostTierPlan[]>>>>;

export interface AclHostEndpoint {
  /** The HostEndpoint's name. */
  readonly key: string;
  readonly node: string;
  /** Interface name, `*` for all host interfaces, '' when unknown (no interfaceName, addresses not read: not rendered). */
  readonly iface: string;
  readonly addrs: Nets;
  readonly labels: Labels;
  /** Profiles that exist, in the endpoint's order (normal stage only). */
  readonly profiles: readonly string[];
  readonly stages: HostPlans;
}

export interface FailsafePort { readonly protocol: 'tcp' | 'udp' | 'sctp'; readonly port: number }

/**
 * The profile libcalico-go synthesizes in every datastore (allow all ingress and egress);
 * Calico's automatic host endpoints carry it. model.ts adds it when the datastore has none.
 */
export const DEFAULT_ALLOW_PROFILE = 'projectcalico-default-allow';

/** Felix's defaults (config_params.go). */
export const FAILSAFE_INBOUND: readonly FailsafePort[] = parseFailsafe('tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667');
export const FAILSAFE_OUTBOUND: readonly FailsafePort[] = parseFailsafe('udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667');

/** Felix's port-list syntax: "tcp:22,udp:68" (protocol defaults to tcp); "none" or "" is empty. */
export function parseFailsafe(text: string): FailsafePort[] {
  const out: FailsafePort[] = [];
  if (text.trim() === '' || text.trim().toLowerCase() === 'none') return out;
  for (const item of text.split(',')) {
    const parts = item.trim().toLowerCase().split(':');
    const proto = parts.length > 1 ? parts[0]! : 'tcp';
    const port = Number(parts[parts.length - 1]);
    if ((proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new DaemonError('ERR_ACL_FAILSAFE', `failsafe port "${item.trim()}" is not PROTOCOL:PORT (tcp, udp or sctp)`);
    }
    out.push({ protocol: proto, port });
  }
  return out;
}

/** Render options for failsafe lists given as text (flag or FELIX_FAILSAFE*); absent = Felix's defaults. */
export function failsafeOptions(inbound: string | undefined, outbound: string | undefined): { failsafeInbound?: FailsafePort[]; failsafeOutbound?: FailsafePort[] } {
  return {
    ...(inbound !== undefined ? { failsafeInbound: parseFailsafe(inbound) } : {}),
    ...(outbound !== undefined ? { failsafeOutbound: parseFailsafe(outbound) } : {}),
  };
}

/** What model.ts knows of a policy, enough to place it at a host endpoint's stages. */
export interface HostPolicyRef {
  readonly key: string;
  readonly tier: string;
  readonly applies: Readonly<Record<Direction, boolean>>;
  readonly doNotTrack: boolean;
  readonly preDNAT: boolean;
  readonly applyOnForward: boolean;
  /** True when the policy's selectors pick this host endpoint entity. */
  readonly selectHost: (e: Entity) => boolean;
}

export interface HostTierRef { readonly name: string; readonly defaultAction: 'Deny' | 'Pass' }

export interface HostProblem { readonly kind: string; readonly key: string; readonly reason: string }

const empty = (): Record<Direction, HostTierPlan[]> => ({ ingress: [], egress: [] });

/**
 * This node's host endpoints (all nodes' when `nodeName` is undefined, for explain), sorted by
 * key, with their stage plans. `ordered` is every policy in evaluation order (tier order, then
 * policy order); `tiers` in tier order.
 */
export function hostEndpointsOf(
  hostEndpoints: ReadonlyMap<string, Endpoint>, nodeName: string | undefined, entities: readonly Entity[], ordered: readonly HostPolicyRef[],
  tiers: readonly HostTierRef[], hasProfile: (name: string) => boolean, problems: HostProblem[],
  ifaceAddrs?: ReadonlyMap<string, readonly string[]>,
): AclHostEndpoint[] {
  const byKey = new Map(entities.filter((e) => e.kind === 'HostEndpoint').map((e) => [e.key, e]));
  const out: AclHostEndpoint[] = [];
  const claimed = new Map<string, string>();
  for (const key of [...hostEndpoints.keys()].sort()) {
    const h = hostEndpoints.get(key)!;
    if (nodeName !== undefined && h.node !== nodeName) continue;
    const e = byKey.get(key);
    if (!e) continue;
    const named = h.iface;
    let ifaces: string[];
    if (named !== '') ifaces = [named];
    else if (ifaceAddrs === undefined) {
      // Kept with iface '' for explain (which judges by address); render skips it.
      problems.push({ kind: 'HostEndpoint', key, reason: 'no interfaceName and the host\'s interface addresses are unknown: not enforced' });
      ifaces = [''];
    } else {
      const wanted = new Set<string>(h.expectedIPs);
      ifaces = [...ifaceAddrs].filter(([, addrs]) => addrs.some((a) => wanted.has(a))).map(([name]) => name).sort();
    }
    if (named !== '' && named !== '*' && !/^[A-Za-z0-9_.:@+-]{1,15}$/.test(named)) {
      problems.push({ kind: 'HostEndpoint', key, reason: `interfaceName "${named}" is not a Linux interface name (host endpoint ignored)` });
      continue;
    }
    ifaces = ifaces.filter((iface) => {
      const scope = `${h.node}\u0000${iface}`;
      const other = claimed.get(scope);
      if (other === undefined) { claimed.set(scope, key); return true; }
      problems.push({ kind: 'HostEndpoint', key, reason: `interface ${iface} is already policed by host endpoint ${other} (the smaller name wins, as Felix)` });
      return false;
    });
    if (ifaces.length === 0) continue;
    const selected = ordered.filter((p) => p.selectHost(e));
    const stages: Record<HostStage, Record<Direction, HostTierPlan[]>> = { untracked: empty(), preDNAT: empty(), normal: empty(), forward: empty() };
    const untrackedIgnored = named === '*' && selected.some((p) => p.doNotTrack);
    if (untrackedIgnored) problems.push({ kind: 'HostEndpoint', key, reason: 'doNotTrack policy on a host endpoint with interfaceName "*" is ignored (as Felix)' });
    for (const t of tiers) {
      const inTier = selected.filter((p) => p.tier === t.name);
      if (inTier.length === 0) continue;
      const add = (stage: HostStage, d: Direction, keys: string[], action: 'Deny' | 'Pass'): void => {
        if (keys.length > 0) stages[stage][d].push({ tier: t.name, defaultAction: action, policies: keys });
      };
      for (const d of ['ingress', 'egress'] as const) {
        const on = inTier.filter((p) => p.applies[d]);
        if (!untrackedIgnored) add('untracked', d, on.filter((p) => p.doNotTrack).map((p) => p.key), 'Pass');
        if (d === 'ingress') add('preDNAT', d, on.filter((p) => !p.doNotTrack && p.preDNAT).map((p) => p.key), 'Pass');
        const normal = on.filter((p) => !p.doNotTrack && !p.preDNAT);
        add('normal', d, normal.map((p) => p.key), t.defaultAction);
        add('forward', d, normal.filter((p) => p.applyOnForward).map((p) => p.key), t.defaultAction);
      }
    }
    for (const name of ifaces) out.push({ key, node: h.node, iface: name, addrs: e.addrs, labels: e.labels, profiles: h.profiles.filter(hasProfile), stages });
  }
  return out;
}
