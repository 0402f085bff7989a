// deriveNodeConfig: the pure step from a datastore Snapshot to the NodeBgpConfig of one
// node (router id, AS, listen port, addresses, pools, own blocks and the peer set).
import { nodeCrypto } from '../util/crypto.js';
import type { BlockAffinityResource, EncapMode as CalicoEncap, Snapshot } from '../model/types.js';
import type { BgpConfiguration, BgpModel, NodeAddress } from '../model/bgp.js';
import { DEFAULT_AS } from '../model/asn.js';
import { parseNodeAddress } from '../model/parse-bgp.js';
import { bgpModel, parseBlockAffinity } from '../model/parse-ipam.js';
import { ModelError } from '../model/errors.js';
import { computePeers, type AddressOrder } from './index.js';
import { addressInPrefix } from '../net/prefix.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import {
  listenPortOf, resolvePassword, toClusterNode, toPeerRules,
  type GlobalSettings, type SecretResolver, type Warn,
} from './cluster.js';
import { filterSets, prefixCommunities, serviceRoutes } from './filters.js';
import type { LocalWorkload } from './types.js';
import type { AddressConfig, EncapMode, NodeBgpConfig, OwnBlock, PoolConfig } from './node-config.js';
import { DEFAULT_RESTART_TIME } from './session.js';

export interface DeriveOptions {
  /** This node's resolved addresses (ownAddressOption) that replace the Node's stored ones. */
  readonly ipv4?: NodeAddress;
  readonly ipv6?: NodeAddress;
  /** CALICO_ROUTER_ID: an IPv4 address, or 'hash' (derived from the node name). */
  readonly routerId?: string;
  /** Passive-side order for mesh and global Calico-node peers (see src/peering/index.ts). */
  readonly passiveOrder?: AddressOrder;
  /** Resolves password secretKeyRefs (BGPPeer password, nodeMeshPassword). */
  readonly secrets?: SecretResolver;
  /** CALICO_ADVERTISE_CLUSTER_IPS: replaces serviceClusterIPs when set. */
  readonly advertiseClusterIPs?: string;
  /** This node's workloads selected for local BGP peering (Felix's endpoint-status files). */
  readonly localWorkloads?: readonly LocalWorkload[];
}


function settingsOf(model: BgpModel, nodeName: string, warn: Warn): GlobalSettings {
  const global = model.bgpConfigurations.get('default');
  const perNode = new Map<string, BgpConfiguration>();
  for (const [name, cfg] of model.bgpConfigurations) {
    if (name.startsWith('node.')) perNode.set(name.slice('node.'.length), cfg);
  }
  for (const e of [...(global?.refused ?? []), ...(perNode.get(nodeName)?.refused ?? [])]) {
    if (e.field === 'spec.asNumber') warn(`${e.message}; using ${DEFAULT_AS}`);
    else if (e.field === 'spec.nodeMeshMaxRestartTime') warn(`${e.message}; using ${DEFAULT_RESTART_TIME}s`);
    else warn(`${e.message}; ignored`);
  }
  return { global, perNode, asNumber: global?.asNumber ?? DEFAULT_AS };
}

const ENCAP: Record<CalicoEncap, EncapMode> = { Never: 'never', Always: 'always', CrossSubnet: 'crossSubnet' };

function pools(model: BgpModel): PoolConfig[] {
  const out: PoolConfig[] = [...model.ipPools.values()].map((p) => ({
    cidr: p.cidr,
    family: p.family,
    blockSize: p.blockSize,
    ipipMode: ENCAP[p.ipipMode] ?? 'never',
    vxlanMode: ENCAP[p.vxlanMode] ?? 'never',
    natOutgoing: p.natOutgoing,
    disabled: p.disabled,
    disableBGPExport: p.disableBGPExport,
  }));
  return out.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

/** Resources of `kinds` the model refused whole, as warnings. */
function refusals(model: BgpModel, kinds: readonly string[], warn: Warn): void {
  for (const e of model.refused) if (kinds.includes(e.kind)) warn(`${e.message}; skipped`);
}

/**
 * A resolved address of this node ("addr/len" from --ip/IP or autodetection) as the model's
 * typed value; a bad one is an error: the node cannot run with it.
 */
export function ownAddressOption(text: string, family: 'ipv4' | 'ipv6', nodeName: string): NodeAddress {
  const field = family === 'ipv4' ? 'spec.bgp.ipv4Address' : 'spec.bgp.ipv6Address';
  try {
    return parseNodeAddress(text, family);
  } catch (err) {
    throw new ConfigError(`Node ${nodeName}: ${field} ${JSON.stringify(text)}: ${errorMessage(err)}`, {
      kind: 'Node', resource: nodeName, field, reason: errorMessage(err),
    });
  }
}

/** This node's address of `family`: the resolved one (`override`), else the Node's stored one. */
function ownAddress(model: BgpModel, override: NodeAddress | undefined, family: 'ipv4' | 'ipv6', nodeName: string): NodeAddress | undefined {
  if (override !== undefined) return override;
  const field = family === 'ipv4' ? 'spec.bgp.ipv4Address' : 'spec.bgp.ipv6Address';
  const node = model.nodes.get(nodeName);
  const refused = node?.refused.find((e) => e.field === field);
  if (refused) throw refused;
  return family === 'ipv4' ? node?.ipv4 : node?.ipv6;
}

/**
 * confd's hashToIPv4 (CALICO_ROUTER_ID=hash): the first four bytes of SHA-256(node name),
 * the first octet lowered by 32 when above 223 so the id is never in 224.0.0.0/3.
 */
export function hashRouterId(nodeName: string): string {
  const b = nodeCrypto().createHash('sha256').update(nodeName).digest();
  const first = b[0]! > 223 ? b[0]! - 32 : b[0]!;
  return [first, b[1], b[2], b[3]].join('.');
}

/** RFC 6286 §2.1 / RFC 4271 §4.2: the BGP Identifier is a unicast IPv4 address of the node. */
function routerIdOf(ipv4: AddressConfig | undefined, nodeName: string, override?: string): string {
  const details = { kind: 'Node', resource: nodeName, field: 'spec.bgp.ipv4Address' };
  if (override !== undefined) {
    const id = override === 'hash' ? hashRouterId(nodeName) : override;
    if (addressInPrefix(id, '224.0.0.0/4') || id === '0.0.0.0') {
      throw new ConfigError(`Node ${nodeName}: CALICO_ROUTER_ID ${id} is not a usable router id (0.0.0.0 or 224.0.0.0/4)`, { ...details, field: 'CALICO_ROUTER_ID', reason: 'bad router id' });
    }
    return id;
  }
  if (ipv4 === undefined) {
    throw new ConfigError(
      `Node ${nodeName} has no IPv4 address (spec.bgp.ipv4Address): the BGP router id must be a 4-octet IPv4 ` +
        'address; set spec.bgp.ipv4Address, autodetect one, or on an IPv6-only node set CALICO_ROUTER_ID (an IPv4 address or "hash")',
      { ...details, reason: 'no IPv4 address for the router id' },
    );
  }
  if (addressInPrefix(ipv4.address, '224.0.0.0/4')) {
    // Peers reject a multicast/reserved identifier with "Bad BGP Identifier".
    throw new ConfigError(`Node ${nodeName}: router id ${ipv4.address} is in 224.0.0.0/4 (multicast/reserved), peers would reject it`, {
      ...details, reason: 'router id in 224.0.0.0/4',
    });
  }
  return ipv4.address;
}

/**
 * True when every resource deriveNodeConfig reads besides BlockAffinities is the same object
 * in both snapshots: all Nodes, BGPConfigurations, BGPPeers, IPPools, BGPFilters and Secrets.
 */
function sameSharedInputs(a: Snapshot, b: Snapshot): boolean {
  const same = (x: ReadonlyMap<string, object> | undefined, y: ReadonlyMap<string, object> | undefined) => {
    if ((x?.size ?? 0) !== (y?.size ?? 0)) return false;
    for (const [k, v] of x ?? []) if (y!.get(k) !== v) return false;
    return true;
  };
  return same(a.nodes, b.nodes) && same(a.bgpConfigurations, b.bgpConfigurations) && same(a.bgpPeers, b.bgpPeers)
    && same(a.ipPools, b.ipPools) && same(a.bgpFilters, b.bgpFilters) && same(a.secrets, b.secrets);
}

/** The node's own BlockAffinity resources, in snapshot order. */
function ownAffinities(s: Snapshot, nodeName: string): BlockAffinityResource[] {
  const out: BlockAffinityResource[] = [];
  for (const r of s.blockAffinities.values()) if (r.spec.node === nodeName) out.push(r);
  return out;
}

/**
 * True when deriveNodeConfig(b, nodeName) cannot differ from deriveNodeConfig(a, nodeName)
 * (same options): every resource it reads is the same object in both snapshots. It reads all
 * Nodes, BGPConfigurations, BGPPeers, IPPools, BGPFilters and Secrets, but only the node's
 * own BlockAffinities: another node's block coming or going changes nothing here. Equal
 * content in different objects answers false (derive again: correct, only slower).
 */
export function sameDeriveInputs(a: Snapshot, b: Snapshot, nodeName: string): boolean {
  if (!sameSharedInputs(a, b)) return false;
  const ownA = ownAffinities(a, nodeName);
  const ownB = ownAffinities(b, nodeName);
  return ownA.length === ownB.length && ownA.every((r, i) => r === ownB[i]);
}

/**
 * `cfg`, derived from `prev` with some options, brought to `next` with the same options when
 * the two snapshots differ at most in this node's own BlockAffinities: `cfg` with the own
 * blocks of `next` and its warnings about them. deriveNodeConfig(next) gives the same
 * configuration (own blocks are read by nothing else in it), without parsing every resource
 * again and computing the peer set (the same PeerSpec objects stay in force). Null when
 * anything else deriveNodeConfig reads changed: derive in full.
 */
export function withOwnBlocksOf(cfg: NodeBgpConfig, prev: Snapshot, next: Snapshot, nodeName: string): NodeBgpConfig | null {
  if (!sameSharedInputs(prev, next)) return null;
  const now = ownBlocksOf(next, nodeName);
  // The other warnings came from resources that did not change; those about this node's
  // affinities, the tail deriveNodeConfig puts them in, are made again from `next`.
  const before = ownBlocksOf(prev, nodeName).warnings.length;
  const warnings = [...cfg.warnings.slice(0, cfg.warnings.length - before), ...now.warnings];
  return { ...cfg, ownBlocks: now.ownBlocks, warnings };
}

/**
 * The node's own blocks (not deleted, one per cidr, sorted), read from its own affinities
 * alone, and a warning for each of them the model refuses.
 */
function ownBlocksOf(s: Snapshot, nodeName: string): { ownBlocks: OwnBlock[]; warnings: string[] } {
  const byCidr = new Map<string, OwnBlock>();
  const warnings: string[] = [];
  for (const r of ownAffinities(s, nodeName)) {
    try {
      const a = parseBlockAffinity(r);
      if (!a.deleted) byCidr.set(a.cidr, { cidr: a.cidr, state: a.state });
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      warnings.push(`${e.message}; skipped`);
    }
  }
  return { ownBlocks: [...byCidr.values()].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0)), warnings };
}

/**
 * Derives the BGP configuration of `nodeName` from `snapshot`. Throws ConfigError when the
 * node itself is unusable (not registered, no IPv4 for the router id, router id in 224/4,
 * unparsable own address); problems in other resources become `warnings`.
 */
export function deriveNodeConfig(snapshot: Snapshot, nodeName: string, overrides: DeriveOptions = {}): NodeBgpConfig {
  const warnings: string[] = [];
  const warn: Warn = (m) => warnings.push(m);
  const model = bgpModel(snapshot);
  const node = model.nodes.get(nodeName);
  if (node === undefined) {
    throw new ConfigError(`Node ${nodeName} is not in the datastore; register it first`, {
      kind: 'Node', resource: nodeName, reason: 'not found',
    });
  }
  const ipv4 = ownAddress(model, overrides.ipv4, 'ipv4', nodeName);
  const ipv6 = ownAddress(model, overrides.ipv6, 'ipv6', nodeName);
  const routerId = routerIdOf(ipv4, nodeName, overrides.routerId);
  const settings = settingsOf(model, nodeName, warn);
  const self = toClusterNode(node, settings, warn, { ipv4, ipv6 });
  const nodes = [...model.nodes.values()].map((n) => (n.name === nodeName ? self : toClusterNode(n, settings, warn)));
  const meshRef = settings.global?.nodeMeshPassword;
  const meshPassword = meshRef ? resolvePassword(meshRef, overrides.secrets) : {};
  if ('passwordUnresolved' in meshPassword) warn(`BGPConfiguration default: nodeMeshPassword: ${meshPassword.passwordUnresolved}; mesh sessions are not started`);
  const mesh = {
    enabled: settings.global?.nodeToNodeMeshEnabled ?? true,
    restartTime: settings.global?.nodeMeshMaxRestartTime ?? DEFAULT_RESTART_TIME,
    ...meshPassword,
  };
  const { peers, warnings: peerWarnings } = computePeers({
    self, nodes, mesh, rules: toPeerRules(model.bgpPeers.values(), model.refused, warn, overrides.secrets),
    filters: filterSets(model.bgpFilters.values()),
    ...(overrides.localWorkloads ? { localWorkloads: overrides.localWorkloads } : {}),
    ...(overrides.passiveOrder ? { addressOrder: overrides.passiveOrder } : {}),
  });
  warnings.push(...peerWarnings);
  refusals(model, ['BGPFilter', 'IPPool'], warn);
  const services = serviceRoutes(settings.global, node, { CALICO_ADVERTISE_CLUSTER_IPS: overrides.advertiseClusterIPs }, warn);
  // The warnings about this node's affinities come last: withOwnBlocksOf replaces that tail.
  const own = ownBlocksOf(snapshot, nodeName);
  warnings.push(...own.warnings);
  const logSeverity = settings.perNode.get(nodeName)?.logSeverityScreen || settings.global?.logSeverityScreen || 'Info';
  return {
    nodeName,
    routerId,
    asNumber: self.asNumber,
    listenPort: listenPortOf(settings, nodeName).port,
    listenAddresses: settings.global?.bindMode === 'NodeIP' ? [ipv4?.address, ipv6?.address].filter((a): a is string => a !== undefined) : [],
    logSeverity,
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(self.clusterId !== undefined ? { clusterId: self.clusterId } : {}),
    meshEnabled: mesh.enabled && self.clusterId === undefined,
    pools: pools(model),
    ownBlocks: own.ownBlocks,
    prefixCommunities: prefixCommunities(settings.global, settings.perNode.get(nodeName)),
    ...(settings.global?.normalRoutePriority ? { normalRoutePriority: settings.global.normalRoutePriority } : {}),
    services,
    peers,
    warnings,
  };
}
