// Calico "first-found" node address autodetection, and the Node resource tern writes to
// register those addresses.
//
// firstFound() is pure: it takes an interface table shaped like os.networkInterfaces()
// (tests pass fake tables) and returns the first global address of the family on an
// interface that is not excluded, in table order (the kernel's interface order).
// Excluded interfaces are Calico's defaults for first-found (lo, cali*, tunl*, vxlan*,
// docker*, kube-ipvs*, veth*, and the other CNI/bridge devices listed below). "Global"
// means not loopback, link-local (169.254/16, fe80::/10), multicast or unspecified.
//
// nodeRegistration() is pure: given the Snapshot it returns the Node to apply — a new one,
// or the existing one with spec.bgp.ipv4Address / ipv6Address updated and every other field
// (labels, annotations, resourceVersion, orchRefs, asNumber, …) kept — or null when nothing
// changes. registerNode() applies that through the datastore's apply function.
import os from 'node:os';
import { API_VERSION, type NodeResource, type Snapshot } from '../model/types.js';
import { addressInPrefix, canonicalAddress, type Family } from '../net/prefix.js';

export type InterfaceTable = Readonly<Record<string, readonly os.NetworkInterfaceInfo[] | undefined>>;

export interface DetectedAddress {
  readonly interface: string;
  readonly address: string;
  readonly prefixLength: number;
  /** "address/len", the form Node.spec.bgp.ipv4Address takes. */
  readonly cidr: string;
}

/** Calico's default exclusions for first-found (startup autodetection), as name patterns. */
export const EXCLUDED_INTERFACES: readonly RegExp[] = [
  /^lo/, /^cali/, /^tunl/, /^vxlan/, /^docker/, /^kube-ipvs/, /^veth/,
  /^cbr/, /^dummy/, /^virbr/, /^lxcbr/, /^flannel/, /^cni/, /^wireguard\.cali/, /^wg-v6\.cali/, /^br-/,
];

const NOT_GLOBAL: Record<Family, readonly string[]> = {
  ipv4: ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '255.255.255.255/32'],
  ipv6: ['::/128', '::1/128', 'fe80::/10', 'ff00::/8'],
};

function isGlobal(address: string, family: Family): boolean {
  return !NOT_GLOBAL[family].some((p) => addressInPrefix(address, p));
}

function excluded(name: string, extra: readonly RegExp[]): boolean {
  return [...EXCLUDED_INTERFACES, ...extra].some((re) => re.test(name));
}

/**
 * First global address of `family` on a non-excluded interface. `extraExclude` adds
 * patterns (BGPConfiguration ignoredInterfaces, if the caller wants them honoured).
 */
export function firstFound(
  table: InterfaceTable,
  family: Family,
  extraExclude: readonly RegExp[] = [],
): DetectedAddress | undefined {
  const want = family === 'ipv4' ? 'IPv4' : 'IPv6';
  for (const [name, infos] of Object.entries(table)) {
    if (infos === undefined || excluded(name, extraExclude)) continue;
    for (const info of infos) {
      // Node 18.0–18.3 reported family as a number; accept both spellings.
      const fam = String(info.family) === '4' ? 'IPv4' : String(info.family) === '6' ? 'IPv6' : info.family;
      if (fam !== want || info.internal) continue;
      let address: string;
      try { address = canonicalAddress(info.address.split('%')[0] ?? ''); } catch { continue; }
      if (!isGlobal(address, family)) continue;
      const prefixLength = Number((info.cidr ?? '').split('/')[1] ?? (family === 'ipv4' ? 32 : 128));
      return { interface: name, address, prefixLength, cidr: `${address}/${prefixLength}` };
    }
  }
  return undefined;
}

/** firstFound over this host's interfaces (os.networkInterfaces()). */
export function detectHostAddress(family: Family, extraExclude: readonly RegExp[] = []): DetectedAddress | undefined {
  return firstFound(os.networkInterfaces(), family, extraExclude);
}

/**
 * Addresses to register: "addr/len" to set, null to remove, undefined to leave as stored.
 */
export interface NodeAddresses {
  readonly ipv4?: string | null;
  readonly ipv6?: string | null;
}

type Bgp = NonNullable<NodeResource['spec']['bgp']>;

function withAddress(bgp: Bgp, field: 'ipv4Address' | 'ipv6Address', value: string | null | undefined): Bgp {
  if (value === undefined) return bgp;
  const next: Bgp = { ...bgp };
  if (value === null) delete next[field];
  else next[field] = value;
  return next;
}

/** The Node resource to apply to register `addrs` for `nodeName`, or null when nothing changes. */
export function nodeRegistration(snapshot: Snapshot, nodeName: string, addrs: NodeAddresses): NodeResource | null {
  const existing = snapshot.nodes.get(nodeName);
  const oldBgp: Bgp = existing?.spec.bgp ?? {};
  const bgp = withAddress(withAddress(oldBgp, 'ipv4Address', addrs.ipv4), 'ipv6Address', addrs.ipv6);
  if (existing !== undefined) {
    const same = bgp.ipv4Address === oldBgp.ipv4Address && bgp.ipv6Address === oldBgp.ipv6Address;
    if (same && existing.spec.bgp !== undefined) return null;
    if (same && Object.keys(bgp).length === 0) return null; // nothing to record
    return { ...existing, spec: { ...existing.spec, bgp } };
  }
  return { apiVersion: API_VERSION, kind: 'Node', metadata: { name: nodeName }, spec: { bgp } };
}

/** Applies nodeRegistration() through `apply` (e.g. Datastore.apply); returns what was applied. */
export async function registerNode(
  apply: (resources: NodeResource[]) => Promise<unknown>,
  snapshot: Snapshot,
  nodeName: string,
  addrs: NodeAddresses,
): Promise<NodeResource | null> {
  const node = nodeRegistration(snapshot, nodeName, addrs);
  if (node !== null) await apply([node]);
  return node;
}
