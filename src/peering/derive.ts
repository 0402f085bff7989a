// deriveNodeConfig: the pure step from a datastore Snapshot to the NodeBgpConfig of one
// node (router id, AS, listen port, addresses, pools, own blocks and the peer set).
import { createHash } from 'node:crypto';
import type { BGPConfigurationSpec, EncapMode as CalicoEncap, Snapshot } from '../model/types.js';
import { computePeers, type AddressOrder } from './index.js';
import { addressInPrefix, canonicalPrefix, familyOf } from '../net/prefix.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import {
  DEFAULT_AS, isValidAs, listenPortOf, parseNodeAddress, resolvePassword, toClusterNode, toPeerRules,
  type GlobalSettings, type SecretResolver, type Warn,
} from './cluster.js';
import { durationSeconds } from '../model/duration.js';
import { filterSets, prefixCommunities, serviceRoutes } from './filters.js';
import type { LocalWorkload } from './types.js';
import type { AddressConfig, EncapMode, NodeBgpConfig, OwnBlock, PoolConfig } from './node-config.js';
import { DEFAULT_RESTART_TIME } from './session.js';

export interface DeriveOptions {
  /** Autodetected addresses ("addr/len") that replace the Node's stored ones for this node. */
  readonly ipv4?: string;
  readonly ipv6?: string;
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


function settingsOf(snapshot: Snapshot, warn: Warn): GlobalSettings {
  const global: BGPConfigurationSpec = snapshot.bgpConfigurations.get('default')?.spec ?? {};
  const perNode = new Map<string, BGPConfigurationSpec>();
  for (const [name, res] of snapshot.bgpConfigurations) {
    if (name.startsWith('node.')) perNode.set(name.slice('node.'.length), res.spec);
  }
  let asNumber = DEFAULT_AS;
  if (global.asNumber !== undefined) {
    if (isValidAs(global.asNumber)) asNumber = global.asNumber;
    else warn(`BGPConfiguration default: bad asNumber ${JSON.stringify(global.asNumber)}; using ${DEFAULT_AS}`);
  }
  return { global, perNode, asNumber };
}

function meshRestartTime(global: BGPConfigurationSpec, warn: Warn): number {
  if (global.nodeMeshMaxRestartTime === undefined) return DEFAULT_RESTART_TIME;
  try {
    return durationSeconds(global.nodeMeshMaxRestartTime, 'nodeMeshMaxRestartTime');
  } catch (err) {
    warn(`BGPConfiguration default: ${errorMessage(err)}; using ${DEFAULT_RESTART_TIME}s`);
    return DEFAULT_RESTART_TIME;
  }
}

const ENCAP: Record<CalicoEncap, EncapMode> = { Never: 'never', Always: 'always', CrossSubnet: 'crossSubnet' };

function pools(snapshot: Snapshot, warn: Warn): PoolConfig[] {
  const out: PoolConfig[] = [];
  for (const [name, res] of snapshot.ipPools) {
    const s = res.spec;
    try {
      const cidr = canonicalPrefix(s.cidr);
      const family = familyOf(cidr);
      out.push({
        cidr,
        family,
        blockSize: s.blockSize ?? (family === 'ipv4' ? 26 : 122),
        ipipMode: ENCAP[s.ipipMode ?? 'Never'] ?? 'never',
        vxlanMode: ENCAP[s.vxlanMode ?? 'Never'] ?? 'never',
        natOutgoing: s.natOutgoing ?? false,
        disabled: s.disabled ?? false,
        disableBGPExport: s.disableBGPExport ?? false,
      });
    } catch (err) {
      warn(`IPPool ${name}: ${errorMessage(err)}; skipped`);
    }
  }
  return out.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

function ownBlocks(snapshot: Snapshot, nodeName: string, warn: Warn): OwnBlock[] {
  const byCidr = new Map<string, OwnBlock>();
  for (const [name, res] of snapshot.blockAffinities) {
    const s = res.spec;
    if (s.node !== nodeName || s.deleted === true || s.deleted === 'true') continue;
    try {
      const cidr = canonicalPrefix(s.cidr);
      byCidr.set(cidr, { cidr, state: s.state });
    } catch (err) {
      warn(`BlockAffinity ${name}: ${errorMessage(err)}; skipped`);
    }
  }
  return [...byCidr.values()].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

function ownAddress(text: string | undefined, family: 'ipv4' | 'ipv6', nodeName: string): AddressConfig | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const field = family === 'ipv4' ? 'ipv4Address' : 'ipv6Address';
  try {
    return parseNodeAddress(text, family);
  } catch (err) {
    throw new ConfigError(`Node ${nodeName}: spec.bgp.${field} ${JSON.stringify(text)}: ${errorMessage(err)}`, {
      kind: 'Node', resource: nodeName, field: `spec.bgp.${field}`, reason: errorMessage(err),
    });
  }
}

/**
 * confd's hashToIPv4 (CALICO_ROUTER_ID=hash): the first four bytes of SHA-256(node name),
 * the first octet lowered by 32 when above 223 so the id is never in 224.0.0.0/3.
 */
export function hashRouterId(nodeName: string): string {
  const b = createHash('sha256').update(nodeName).digest();
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
 * True when deriveNodeConfig(b, nodeName) cannot differ from deriveNodeConfig(a, nodeName)
 * (same options): every resource it reads is the same object in both snapshots. It reads all
 * Nodes, BGPConfigurations, BGPPeers, IPPools, BGPFilters and Secrets, but only the node's
 * own BlockAffinities: another node's block coming or going changes nothing here. Equal
 * content in different objects answers false (derive again: correct, only slower).
 */
export function sameDeriveInputs(a: Snapshot, b: Snapshot, nodeName: string): boolean {
  const same = (x: ReadonlyMap<string, object> | undefined, y: ReadonlyMap<string, object> | undefined) => {
    if ((x?.size ?? 0) !== (y?.size ?? 0)) return false;
    for (const [k, v] of x ?? []) if (y!.get(k) !== v) return false;
    return true;
  };
  const own = (s: Snapshot) => [...s.blockAffinities.values()].filter((r) => r.spec.node === nodeName);
  const ownA = own(a);
  const ownB = own(b);
  return same(a.nodes, b.nodes) && same(a.bgpConfigurations, b.bgpConfigurations) && same(a.bgpPeers, b.bgpPeers)
    && same(a.ipPools, b.ipPools) && same(a.bgpFilters, b.bgpFilters) && same(a.secrets, b.secrets)
    && ownA.length === ownB.length && ownA.every((r, i) => r === ownB[i]);
}

/**
 * Derives the BGP configuration of `nodeName` from `snapshot`. Throws ConfigError when the
 * node itself is unusable (not registered, no IPv4 for the router id, router id in 224/4,
 * unparsable own address); problems in other resources become `warnings`.
 */
export function deriveNodeConfig(snapshot: Snapshot, nodeName: string, overrides: DeriveOptions = {}): NodeBgpConfig {
  const warnings: string[] = [];
  const warn: Warn = (m) => warnings.push(m);
  const node = snapshot.nodes.get(nodeName);
  if (node === undefined) {
    throw new ConfigError(`Node ${nodeName} is not in the datastore; register it first`, {
      kind: 'Node', resource: nodeName, reason: 'not found',
    });
  }
  const ipv4 = ownAddress(overrides.ipv4 ?? node.spec.bgp?.ipv4Address, 'ipv4', nodeName);
  const ipv6 = ownAddress(overrides.ipv6 ?? node.spec.bgp?.ipv6Address, 'ipv6', nodeName);
  const routerId = routerIdOf(ipv4, nodeName, overrides.routerId);
  const settings = settingsOf(snapshot, warn);
  const self = toClusterNode(node, settings, warn, { ipv4: overrides.ipv4, ipv6: overrides.ipv6 });
  const nodes = [...snapshot.nodes.values()].map((n) => (n.metadata.name === nodeName ? self : toClusterNode(n, settings, warn)));
  const meshRef = settings.global.nodeMeshPassword?.secretKeyRef;
  const meshPassword = meshRef ? resolvePassword(meshRef, overrides.secrets) : {};
  if ('passwordUnresolved' in meshPassword) warn(`BGPConfiguration default: nodeMeshPassword: ${meshPassword.passwordUnresolved}; mesh sessions are not started`);
  const mesh = {
    enabled: settings.global.nodeToNodeMeshEnabled ?? true,
    restartTime: meshRestartTime(settings.global, warn),
    ...meshPassword,
  };
  const { peers, warnings: peerWarnings } = computePeers({
    self, nodes, mesh, rules: toPeerRules(snapshot.bgpPeers.values(), warn, overrides.secrets),
    filters: filterSets(snapshot.bgpFilters.values(), warn),
    ...(overrides.localWorkloads ? { localWorkloads: overrides.localWorkloads } : {}),
    ...(overrides.passiveOrder ? { addressOrder: overrides.passiveOrder } : {}),
  });
  warnings.push(...peerWarnings);
  const logSeverity = settings.perNode.get(nodeName)?.logSeverityScreen || settings.global.logSeverityScreen || 'Info';
  return {
    nodeName,
    routerId,
    asNumber: self.asNumber,
    listenPort: listenPortOf(settings, nodeName).port,
    listenAddresses: settings.global.bindMode === 'NodeIP' ? [ipv4?.address, ipv6?.address].filter((a): a is string => a !== undefined) : [],
    logSeverity,
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(self.clusterId !== undefined ? { clusterId: self.clusterId } : {}),
    meshEnabled: mesh.enabled && self.clusterId === undefined,
    pools: pools(snapshot, warn),
    ownBlocks: ownBlocks(snapshot, nodeName, warn),
    prefixCommunities: prefixCommunities(settings.global, settings.perNode.get(nodeName)),
    services: serviceRoutes(settings.global, node, { CALICO_ADVERTISE_CLUSTER_IPS: overrides.advertiseClusterIPs }, warn),
    peers,
    warnings,
  };
}
