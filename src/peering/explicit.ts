// Explicit BGPPeer sessions for one node, following confd's updatePeersV1 (libcalico-go
// confd/pkg/backends/calico/client.go): forward peerings of global BGPPeers first, then of
// node-specific ones, then reverse peerings; the first session for an address+port wins.
import type { PeerSpec, PeerType } from './peer-spec.js';
import { familyOf, type Family } from '../net/prefix.js';
import {
  addressOf, BGP_PORT, DEFAULT_RESTART_TIME, FAMILIES, isGreater, isReflectorClient, makeSpec, protocolId,
} from './session.js';
import type { AddressOrder, ClusterNode, FilterSet, LocalWorkload, PeerRule, PeerSetInput } from './types.js';
import type { FilterChainSpec } from './filter-spec.js';
import { rulesForPeer } from './filters.js';

/** The far end of one explicit session before it becomes a PeerSpec. */
interface Remote {
  address: string;
  family: Family;
  port: number;
  /** Port written into the peering (and the name) — explicit in peerIP or a configured listenPort. */
  portInName: boolean;
  peerAs: number;
  node?: ClusterNode;
  /** From a peerIP (Calico copies numAllowedLocalASNumbers only there). */
  peerIPRule?: boolean;
}

type Warn = (message: string) => void;

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function isGlobalRule(rule: PeerRule): boolean {
  return rule.node === undefined && rule.nodeSelector === undefined;
}

/** The local side of a rule: `node`, else `nodeSelector`, else every node. */
function selectsLocal(rule: PeerRule, node: ClusterNode): boolean {
  if (rule.node !== undefined) return rule.node === node.name;
  if (rule.nodeSelector !== undefined) return rule.nodeSelector.matches(node.labels);
  return true;
}

function nodeRemote(node: ClusterNode, family: Family): Remote | undefined {
  const address = addressOf(node, family);
  if (address === undefined) return undefined;
  return { address, family, port: node.listenPort, portInName: node.listenPortConfigured, peerAs: node.asNumber, node };
}

/** Remote ends of a rule from the point of view of a node that the rule selects locally. */
function forwardRemotes(rule: PeerRule, nodes: readonly ClusterNode[], warn: Warn): Remote[] {
  if (rule.peerSelector !== undefined) {
    const sel = rule.peerSelector;
    return nodes.filter((n) => sel.matches(n.labels))
      .flatMap((n) => FAMILIES.map((f) => nodeRemote(n, f)))
      .filter((r): r is Remote => r !== undefined);
  }
  if (rule.peerIP === undefined) return [];
  const { address, port } = rule.peerIP;
  // Calico's nodesWithIPPortAndAS: the peer is a Calico node when its IP and AS match.
  const node = nodes.find((n) => (n.ipv4 === address || n.ipv6 === address) &&
    (rule.asNumber === undefined || rule.asNumber === n.asNumber) &&
    (port === undefined || port === n.listenPort));
  const peerAs = rule.asNumber ?? node?.asNumber;
  if (peerAs === undefined) {
    warn(`BGPPeer ${rule.name}: peerIP ${address} is not a Calico node and has no asNumber; skipped`);
    return [];
  }
  const usePort = port ?? (node?.listenPortConfigured ? node.listenPort : undefined);
  return [{
    address, family: familyOf(address), port: usePort ?? BGP_PORT, portInName: usePort !== undefined, peerAs,
    ...(node ? { node } : {}), peerIPRule: true,
  }];
}

interface Ctx {
  self: ClusterNode;
  order: AddressOrder;
  filters: ReadonlyMap<string, FilterSet>;
}

/**
 * The rule's BGPFilters for one direction and family, in `filters` order; unknown names and
 * filters without rules for the family are skipped (confd's `if $filterVal.spec.importV4`).
 * `ibgp` (peer AS = the session's local AS, confd's is_same_as) selects the rules with a
 * peerType; a filter none of whose rules apply to the peer adds nothing.
 */
function chainOf(ctx: Ctx, rule: PeerRule, dir: 'import' | 'export', family: Family, ibgp: boolean): FilterChainSpec | undefined {
  const field = `${dir}${family === 'ipv4' ? 'V4' : 'V6'}` as keyof FilterSet;
  const chain = (rule.filters ?? []).flatMap((name) => {
    const f = ctx.filters.get(name)?.[field];
    if (!f || f.rules.length === 0) return [];
    if (!f.rules.some((r) => r.peerType !== undefined)) return [f];
    const rules = rulesForPeer(f.rules, ibgp);
    return rules.length > 0 ? [{ name: f.name, rules }] : [];
  });
  return chain.length > 0 ? chain : undefined;
}

/** Calico getNextHopMode: nextHopMode when set, else keepOriginalNextHop toward another AS. */
function nextHopOf(rule: PeerRule, peerAs: number, nodeAs: number): 'auto' | 'self' | 'keep' {
  if (rule.nextHopMode !== undefined) return rule.nextHopMode;
  return rule.keepOriginalNextHop && peerAs !== nodeAs ? 'keep' : 'auto';
}

function toSpec(ctx: Ctx, rule: PeerRule, remote: Remote, type: PeerType, forward: boolean): PeerSpec | undefined {
  const { self } = ctx;
  const own = addressOf(self, remote.family);
  // Without an address of this family the family is disabled on this node (Calico: "IPv4
  // disabled on this node"); and we never peer with ourselves.
  if (own === undefined || remote.address === own || remote.node?.name === self.name) return undefined;
  const isGlobal = type === 'global';
  const localAs = forward ? rule.localAsNumber ?? self.asNumber : self.asNumber;
  const ibgp = remote.peerAs === localAs;
  return makeSpec({
    name: `${isGlobal ? 'Global' : 'Node'}_${protocolId(remote.address, remote.portInName ? remote.port : undefined)}`,
    type,
    address: remote.address,
    port: remote.port,
    family: remote.family,
    localAs,
    peerAs: remote.peerAs,
    sourceAddress: rule.useNodeIP ? own : undefined,
    // Global peers that are Calico nodes: only the lower address connects, as in the mesh.
    passive: isGlobal && remote.node !== undefined && isGreater(remote.address, own, ctx.order),
    keepaliveTime: rule.keepaliveTime,
    gracefulRestartTime: rule.restartTime ?? DEFAULT_RESTART_TIME,
    nextHopMode: nextHopOf(rule, remote.peerAs, self.asNumber),
    routeReflectorClient: isReflectorClient(self, remote.peerAs, remote.node?.clusterId),
    ttlSecurity: rule.ttlSecurity !== undefined && rule.ttlSecurity > 0 ? rule.ttlSecurity : undefined,
    password: rule.password,
    passwordUnresolved: rule.passwordUnresolved,
    calicoNode: remote.node?.name,
    allowOwnAs: forward && remote.peerIPRule && rule.allowOwnAs ? rule.allowOwnAs : undefined,
    // confd copies reachableBy to peerIP and peerSelector peerings (forward and reverse) of its family.
    reachableBy: rule.reachableBy !== undefined && familyOf(rule.reachableBy) === remote.family ? rule.reachableBy : undefined,
    importFilter: chainOf(ctx, rule, 'import', remote.family, ibgp),
    exportFilter: chainOf(ctx, rule, 'export', remote.family, ibgp),
    importLimit: rule.maxPrefixes?.[remote.family],
  });
}

/**
 * Sessions with this node's workloads selected by a BGPPeer's localWorkloadSelector (confd
 * localBGPPeerDataAsBGPPeers): one per workload address and family, named
 * Local_Workload_<ip>, passive, no source address, the BGPPeer's asNumber and filters, and
 * none of its password, timers, TTL or port.
 */
function localWorkloadSpecs(ctx: Ctx, rule: PeerRule, workloads: readonly LocalWorkload[], type: PeerType): PeerSpec[] {
  const out: PeerSpec[] = [];
  if (rule.asNumber === undefined) return out;
  for (const w of workloads) {
    if (w.bgpPeerName !== rule.name) continue;
    for (const family of FAMILIES) {
      const address = family === 'ipv4' ? w.ipv4 : w.ipv6;
      if (address === undefined || addressOf(ctx.self, family) === undefined) continue;
      out.push(makeSpec({
        name: `Local_Workload_${protocolId(address, undefined)}`,
        type: type === 'global' || type === 'node' ? 'localWorkload' : type,
        address,
        port: BGP_PORT,
        family,
        localAs: ctx.self.asNumber,
        peerAs: rule.asNumber,
        passive: true,
        gracefulRestartTime: DEFAULT_RESTART_TIME,
        nextHopMode: 'auto',
        routeReflectorClient: false,
        importFilter: chainOf(ctx, rule, 'import', family, rule.asNumber === ctx.self.asNumber),
        exportFilter: chainOf(ctx, rule, 'export', family, rule.asNumber === ctx.self.asNumber),
      }));
    }
  }
  return out;
}

/**
 * Reverse peerings (reversePeering: Auto): when `self` is a remote end of a rule, it gets
 * a node-specific session to every node on the rule's local side. With peerSelector both
 * families are reversed; with peerIP only that address's family.
 */
function reverseSpecs(ctx: Ctx, rule: PeerRule, nodes: readonly ClusterNode[]): PeerSpec[] {
  const { self } = ctx;
  if (rule.reversePeering !== 'auto' || rule.localWorkload) return []; // workloads peer from their side
  let families: readonly Family[];
  if (rule.peerSelector !== undefined) {
    if (!rule.peerSelector.matches(self.labels)) return [];
    families = FAMILIES;
  } else if (rule.peerIP !== undefined) {
    const { address, port } = rule.peerIP;
    const family = familyOf(address);
    if (addressOf(self, family) !== address) return [];
    if (rule.asNumber !== undefined && rule.asNumber !== self.asNumber) return [];
    if (port !== undefined && port !== self.listenPort) return [];
    families = [family];
  } else {
    return [];
  }
  const out: PeerSpec[] = [];
  for (const local of nodes) {
    if (local.name === self.name || !selectsLocal(rule, local)) continue;
    for (const family of families) {
      const remote = nodeRemote(local, family);
      const spec = remote && toSpec(ctx, rule, remote, 'node', false);
      if (spec) out.push(spec);
    }
  }
  return out;
}

/**
 * Every explicit session of `input.self`, deduplicated by address+port: global peers first,
 * then node-specific ones (a node-specific peer duplicating a global one is dropped), then
 * reverse peerings (an explicit forward peering is never replaced by an implicit reverse one).
 * Rules are taken in name order so the result does not depend on map order.
 */
export function explicitSessions(input: PeerSetInput, warn: Warn): PeerSpec[] {
  const ctx: Ctx = { self: input.self, order: input.addressOrder ?? 'string', filters: input.filters ?? new Map() };
  const nodes = [...input.nodes].sort(byName);
  const rules = [...input.rules].sort(byName);
  const byKey = new Map<string, PeerSpec>();
  const add = (spec: PeerSpec | undefined): void => {
    if (spec !== undefined && !byKey.has(spec.key)) byKey.set(spec.key, spec);
  };
  for (const globalPass of [true, false]) {
    for (const rule of rules) {
      if (isGlobalRule(rule) !== globalPass || !selectsLocal(rule, input.self)) continue;
      const type: PeerType = globalPass ? 'global' : 'node';
      if (rule.localWorkload) {
        for (const spec of localWorkloadSpecs(ctx, rule, input.localWorkloads ?? [], type)) add(spec);
        continue;
      }
      for (const remote of forwardRemotes(rule, nodes, warn)) add(toSpec(ctx, rule, remote, type, true));
    }
  }
  for (const rule of rules) for (const spec of reverseSpecs(ctx, rule, nodes)) add(spec);
  return [...byKey.values()];
}
