// Calico "first-found" node address autodetection, and the Node resource tern writes to
// register those addresses.
//
// firstFound() is pure: it takes an interface table shaped like os.networkInterfaces()
// (tests pass fake tables) and returns the first global address of the family on an
// interface that is not excluded, scanning the interfaces in REVERSE table order as
// calico-node does (its GetInterfaces loops from the last interface; the table is in the
// kernel's interface order). Excluded interfaces are calico-node's
// DEFAULT_INTERFACES_TO_EXCLUDE (listed below). "Global" means not loopback, link-local
// (169.254/16, fe80::/10), multicast, broadcast or unspecified (Go's IsGlobalUnicast).
// The other IP_AUTODETECTION_METHODs (interface=, skip-interface=, cidr=, can-reach=) are
// in ./autodetect-methods.ts.
//
// nodeRegistration() is pure: given the Snapshot it returns the Node to apply — a new one,
// or the existing one with spec.bgp.ipv4Address / ipv6Address updated and every other field
// (labels, annotations, resourceVersion, orchRefs, asNumber, …) kept — or null when nothing
// changes. registerNode() applies that through the datastore's apply function.
import os from 'node:os';
import { API_VERSION, type NodeResource, type Snapshot } from '../datastore/types.js';
import { addressInPrefix, canonicalAddress, type Family } from '../net/prefix.js';

export type InterfaceTable = Readonly<Record<string, readonly os.NetworkInterfaceInfo[] | undefined>>;

export interface DetectedAddress {
  readonly interface: string;
  readonly address: string;
  readonly prefixLength: number;
  /** "address/len", the form Node.spec.bgp.ipv4Address takes. */
  readonly cidr: string;
}

/** calico-node's DEFAULT_INTERFACES_TO_EXCLUDE (first-found, skip-interface=), unanchored at the end as there. */
export const EXCLUDED_INTERFACES: readonly RegExp[] = [
  /^docker.*/, /^cbr.*/, /^dummy.*/, /^podman.*/, /^virbr.*/, /^lxcbr.*/, /^veth.*/, /^lo/, /^br-.*/,
  /^cali.*/, /^tunl.*/, /^flannel.*/, /^kube-ipvs.*/, /^cni.*/, /^vxlan\.calico.*/, /^vxlan-v6\.calico.*/,
  /^wireguard\.cali.*/, /^wg-v6\.cali.*/, /^nodelocaldns.*/,
];

const NOT_GLOBAL: Record<Family, readonly string[]> = {
  ipv4: ['0.0.0.0/32', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '255.255.255.255/32'],
  ipv6: ['::/128', '::1/128', 'fe80::/10', 'ff00::/8'],
};

function isGlobal(address: string, family: Family): boolean {
  return !NOT_GLOBAL[family].some((p) => addressInPrefix(address, p));
}

/** How an enumeration filters: interface names to include (none: all) and exclude; address ranges (none: all). */
export interface InterfaceFilter {
  readonly include?: readonly RegExp[];
  readonly exclude?: readonly RegExp[];
  readonly cidrs?: readonly string[];
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
  return filteredEnumeration(table, family, { exclude: [...EXCLUDED_INTERFACES, ...extraExclude] });
}

/** Every address of `family` on every interface, as calico-node's GetLocalCIDR reads them. */
export function interfaceAddresses(table: InterfaceTable, family: Family): DetectedAddress[] {
  const out: DetectedAddress[] = [];
  for (const [name, infos] of Object.entries(table)) {
    for (const info of infos ?? []) {
      const d = detected(name, info, family);
      if (d) out.push(d);
    }
  }
  return out;
}

/**
 * calico-node's FilteredEnumeration: interfaces in reverse table order, a name must match
 * an include pattern (if any) and no exclude pattern; the first global address of the
 * family inside one of `cidrs` (if any) wins.
 */
export function filteredEnumeration(table: InterfaceTable, family: Family, filter: InterfaceFilter): DetectedAddress | undefined {
  const names = Object.keys(table).reverse();
  for (const name of names) {
    if (filter.include?.length && !filter.include.some((re) => re.test(name))) continue;
    if (filter.exclude?.some((re) => re.test(name))) continue;
    for (const info of table[name] ?? []) {
      const d = detected(name, info, family);
      // Go's IsGlobalUnicast decides (an address on lo can qualify for cidr=/interface=).
      if (!d || !isGlobal(d.address, family)) continue;
      if (filter.cidrs?.length && !filter.cidrs.some((c) => addressInPrefix(d.address, c))) continue;
      return d;
    }
  }
  return undefined;
}

function detected(name: string, info: os.NetworkInterfaceInfo, family: Family): DetectedAddress | undefined {
  const want = family === 'ipv4' ? 'IPv4' : 'IPv6';
  // Node 18.0–18.3 reported family as a number; accept both spellings.
  const fam = String(info.family) === '4' ? 'IPv4' : String(info.family) === '6' ? 'IPv6' : info.family;
  if (fam !== want) return undefined;
  let address: string;
  try { address = canonicalAddress(info.address.split('%')[0] ?? ''); } catch { return undefined; }
  const prefixLength = Number((info.cidr ?? '').split('/')[1] ?? (family === 'ipv4' ? 32 : 128));
  return { interface: name, address, prefixLength, cidr: `${address}/${prefixLength}` };
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
  /** calico-node's AS: stored as spec.bgp.asNumber when given. */
  readonly asNumber?: number;
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
  let bgp = withAddress(withAddress(oldBgp, 'ipv4Address', addrs.ipv4), 'ipv6Address', addrs.ipv6);
  if (addrs.asNumber !== undefined) bgp = { ...bgp, asNumber: addrs.asNumber };
  if (existing !== undefined) {
    const same = bgp.ipv4Address === oldBgp.ipv4Address && bgp.ipv6Address === oldBgp.ipv6Address && bgp.asNumber === oldBgp.asNumber;
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
