// Building blocks shared by the mesh and the explicit peers: BIRD-compatible protocol
// names, session defaults, address ordering and the RFC 4456 client rule.
import { peerKey, type PeerSpec, type PeerType } from '../config/peer-spec.js';
import { compareAddresses, type Family } from '../net/prefix.js';
import type { AddressOrder, ClusterNode } from './types.js';

/** BIRD's default hold time (seconds); Calico does not change it. */
export const HOLD_TIME = 240;
/** Calico's `connect retry time 5`. */
export const CONNECT_RETRY_TIME = 5;
/** BIRD's default graceful restart time (seconds). */
export const DEFAULT_RESTART_TIME = 120;
export const BGP_PORT = 179;

/**
 * The address part of a BIRD protocol name as Calico writes it: dots (IPv4) or colons
 * (IPv6) become '_', and `_port_N` is appended when the peering carries an explicit port.
 * 10.0.0.12 → 10_0_0_12; fd00::12 → fd00__12; 10.0.0.12 port 1790 → 10_0_0_12_port_1790.
 */
export function protocolId(address: string, port?: number): string {
  const id = address.replace(/[.:]/g, '_');
  return port === undefined ? id : `${id}_port_${port}`;
}

/** True when `peer` orders after `own`, i.e. the peer initiates and we stay passive. */
export function isGreater(peer: string, own: string, order: AddressOrder): boolean {
  if (order === 'string') return peer > own; // Calico's BIRD template: `gt $onode_ip $node_ip`
  return compareAddresses(peer, own) > 0;
}

/**
 * RFC 4456 §7 as Calico configures it (`rr client; rr cluster id <own>`): we reflect to an
 * iBGP peer when we have a cluster id and the peer's differs (a client node has none, a
 * non-Calico peer has none). RRs sharing our cluster id are plain iBGP peers.
 */
export function isReflectorClient(self: ClusterNode, peerAs: number, peerClusterId: string | undefined): boolean {
  if (self.clusterId === undefined) return false;
  if (peerAs !== self.asNumber) return false;
  return (peerClusterId ?? '') !== self.clusterId;
}

export interface SpecFields {
  name: string;
  type: PeerType;
  address: string;
  port: number;
  family: Family;
  localAs: number;
  peerAs: number;
  sourceAddress?: string | undefined;
  passive: boolean;
  keepaliveTime?: number | undefined;
  gracefulRestartTime: number;
  nextHopMode: PeerSpec['nextHopMode'];
  routeReflectorClient: boolean;
  ttlSecurity?: number | undefined;
  password?: string | undefined;
  passwordUnresolved?: string | undefined;
  calicoNode?: string | undefined;
  allowOwnAs?: number | undefined;
  reachableBy?: string | undefined;
  importFilter?: PeerSpec['importFilter'];
  exportFilter?: PeerSpec['exportFilter'];
  importLimit?: number | undefined;
}

/** A PeerSpec with tern's session defaults; optional fields left out when undefined. */
export function makeSpec(f: SpecFields): PeerSpec {
  const spec: Record<string, unknown> = {
    key: peerKey(f.address, f.port),
    name: f.name,
    type: f.type,
    address: f.address,
    port: f.port,
    family: f.family,
    localAs: f.localAs,
    peerAs: f.peerAs,
    sourceAddress: f.sourceAddress,
    passive: f.passive,
    holdTime: HOLD_TIME,
    keepaliveTime: f.keepaliveTime,
    connectRetryTime: CONNECT_RETRY_TIME,
    gracefulRestartTime: f.gracefulRestartTime,
    nextHopMode: f.nextHopMode,
    routeReflectorClient: f.routeReflectorClient,
    addPath: true, // Calico: `add paths on` for every session (RFC 7911)
    ttlSecurity: f.ttlSecurity,
    password: f.password,
    passwordUnresolved: f.passwordUnresolved,
    calicoNode: f.calicoNode,
    allowOwnAs: f.allowOwnAs,
    reachableBy: f.reachableBy,
    importFilter: f.importFilter,
    exportFilter: f.exportFilter,
    importLimit: f.importLimit,
  };
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  return spec as unknown as PeerSpec;
}

export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

export function addressOf(node: ClusterNode, family: Family): string | undefined {
  return family === 'ipv4' ? node.ipv4 : node.ipv6;
}
