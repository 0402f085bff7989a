// Converts the typed BGP kinds (src/model: BgpNode, BgpConfiguration, BgpPeer) into the
// internal inputs of the peer-set computation: ClusterNode and PeerRule. Every field arrives
// parsed; what the model refused is reported here as a warning and left out: a bad resource
// never takes the node down.
import type { BgpConfiguration, BgpNode, BgpPeer, NodeAddress } from '../model/bgp.js';
import type { ModelError } from '../model/errors.js';
import type { ClusterNode, PeerRule } from './types.js';
import { BGP_PORT } from './session.js';

export type Warn = (message: string) => void;

/**
 * Looks up a password secret (BGPPeer password, nodeMeshPassword): the value, or why there
 * is none ("secret bgp-secrets not found", "key tor not in secret bgp-secrets").
 */
export type SecretResolver = (name: string, key: string) => SecretLookup;
export type SecretLookup = { readonly value: string } | { readonly missing: string };

/** Linux TCP_MD5SIG_MAXKEYLEN. */
const MD5_MAX_KEY_BYTES = 80;

/**
 * A secretKeyRef → the password or why it cannot be had. Calico renders the peering without
 * a password when the secret is missing (a session silently unauthenticated); tern does not
 * start it instead.
 */
export function resolvePassword(ref: { name: string; key: string }, secrets: SecretResolver | undefined): { password: string } | { passwordUnresolved: string } {
  const found: SecretLookup = secrets ? secrets(ref.name, ref.key) : { missing: 'no secret source (a v1 Secret in the file datastore, or --secrets-dir)' };
  if ('value' in found) {
    if (found.value === '') return { passwordUnresolved: `password secret ${ref.name}/${ref.key} is empty` };
    if (Buffer.byteLength(found.value, 'utf8') > MD5_MAX_KEY_BYTES) {
      return { passwordUnresolved: `password secret ${ref.name}/${ref.key} is longer than ${MD5_MAX_KEY_BYTES} bytes (the TCP MD5 key limit)` };
    }
    return { password: found.value };
  }
  return { passwordUnresolved: `password secret ${ref.name}/${ref.key} unavailable: ${found.missing}` };
}

export interface GlobalSettings {
  /** BGPConfiguration "default", if any. */
  readonly global: BgpConfiguration | undefined;
  /** BGPConfiguration node.<name> by node name. */
  readonly perNode: ReadonlyMap<string, BgpConfiguration>;
  readonly asNumber: number;
}

export function listenPortOf(settings: GlobalSettings, nodeName: string): { port: number; configured: boolean } {
  const port = settings.perNode.get(nodeName)?.listenPort ?? settings.global?.listenPort ?? 0;
  return port > 0 ? { port, configured: true } : { port: BGP_PORT, configured: false };
}

const ADDRESS_FIELD = { ipv4: 'spec.bgp.ipv4Address', ipv6: 'spec.bgp.ipv6Address' } as const;

/**
 * A Node as the peer computation sees it. `overrides` (this node's autodetected addresses)
 * replace the stored ones; a stored address or AS the model refused is warned about and left
 * out (the global AS instead).
 */
export function toClusterNode(
  node: BgpNode,
  settings: GlobalSettings,
  warn: Warn,
  overrides: { ipv4?: NodeAddress | undefined; ipv6?: NodeAddress | undefined } = {},
): ClusterNode {
  const name = node.name;
  for (const e of node.refused) {
    if (e.field === 'spec.bgp.asNumber') warn(`${e.message}; using the global AS ${settings.asNumber}`);
    else if (!(e.field === ADDRESS_FIELD.ipv4 && overrides.ipv4) && !(e.field === ADDRESS_FIELD.ipv6 && overrides.ipv6)) warn(`${e.message}; ignored`);
  }
  const { port, configured } = listenPortOf(settings, name);
  const ipv4 = (overrides.ipv4 ?? node.ipv4)?.address;
  const ipv6 = (overrides.ipv6 ?? node.ipv6)?.address;
  return {
    name,
    labels: node.labels,
    ...(ipv4 !== undefined ? { ipv4 } : {}),
    ...(ipv6 !== undefined ? { ipv6 } : {}),
    asNumber: node.asNumber ?? settings.asNumber,
    listenPort: port,
    listenPortConfigured: configured,
    ...(node.clusterId !== undefined ? { clusterId: node.clusterId } : {}),
  };
}

/** nextHopMode as written; undefined leaves the choice to keepOriginalNextHop (per peer AS). */
const NEXT_HOP_MODE = { Self: 'self', Keep: 'keep', Auto: 'auto' } as const;

/** One BGPPeer (typed by the model) → PeerRule, its password resolved. */
function toRule(p: BgpPeer, secrets: SecretResolver | undefined, warn: Warn): PeerRule {
  const pw = p.password ? resolvePassword(p.password, secrets) : {};
  if ('passwordUnresolved' in pw) warn(`BGPPeer ${p.name}: ${pw.passwordUnresolved}; its sessions are not started`);
  for (const e of p.refused) warn(`${e.message}; ignored`);
  return {
    name: p.name,
    ...optional('node', p.node),
    ...optional('nodeSelector', p.nodeSelector),
    ...(p.peerIP ? { peerIP: p.peerIP.port === undefined ? { address: p.peerIP.address } : { address: p.peerIP.address, port: p.peerIP.port } } : {}),
    ...optional('peerSelector', p.peerSelector),
    ...optional('asNumber', p.asNumber),
    ...optional('localAsNumber', p.localASNumber),
    useNodeIP: p.sourceAddress !== 'None',
    ...optional('keepaliveTime', p.keepaliveTime),
    ...optional('restartTime', p.maxRestartTime),
    ...optional('nextHopMode', p.nextHopMode ? NEXT_HOP_MODE[p.nextHopMode] : undefined),
    ...(p.keepOriginalNextHop ? { keepOriginalNextHop: true } : {}),
    ...(p.numAllowedLocalASNumbers ? { allowOwnAs: p.numAllowedLocalASNumbers } : {}),
    ...(p.filters.length > 0 ? { filters: [...p.filters] } : {}),
    ...optional('reachableBy', p.reachableBy),
    ...(p.localWorkloadSelector ? { localWorkload: true } : {}),
    ...optional('ttlSecurity', p.ttlSecurity),
    ...pw,
    reversePeering: p.reversePeering === 'Manual' ? 'manual' : 'auto',
    ...optional('maxPrefixes', p.maxPrefixes),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** The BGPPeers the model accepted, as rules; the refused ones (`refused`) warned about and skipped. */
export function toPeerRules(peers: Iterable<BgpPeer>, refused: readonly ModelError[], warn: Warn, secrets?: SecretResolver): PeerRule[] {
  for (const e of refused) if (e.kind === 'BGPPeer') warn(`${e.message}; skipped`);
  return [...peers].map((p) => toRule(p, secrets, warn));
}
