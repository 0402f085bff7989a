// Calico v3 resources as YAML documents, for file datastores and `tern apply`: the one writer
// the integration tests, the demo and the benchmarks share instead of each spelling out
// `apiVersion: projectcalico.org/v3\nkind: …` by hand.
//
// Every document is `apiVersion`, `kind`, `metadata`, `spec` with the metadata and the spec
// in YAML flow style (`{ asNumber: 64512, nodeToNodeMeshEnabled: false }`), which is what the
// hand-written files looked like. A scalar is written plain only when YAML reads it back as
// the same string (names, IPv4 addresses and CIDRs); anything else is JSON-quoted, and
// numbers and booleans stay numbers and booleans. A spec given as a string is taken as
// written (for the few cases where the text itself is the point).

export type Spec = Record<string, unknown>;

const PLAIN = /^(?:[A-Za-z_][A-Za-z0-9_./-]*|\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?)$/;
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null)$/i;

/** A value in YAML flow style: `{ a: 1, b: [x, y] }`. */
export function flow(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Spec).filter(([, x]) => x !== undefined);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${flowKey(k)}: ${flow(x)}`).join(', ')} }`;
  }
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`flow: cannot write ${typeof v} as YAML`);
}

function flowKey(k: string): string { return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k); }

/** One projectcalico.org/v3 document. */
export function calicoDoc(kind: string, name: string, spec: Spec | string, labels?: Record<string, string>): string {
  const meta = flow({ name, ...(labels ? { labels } : {}) });
  return `apiVersion: projectcalico.org/v3\nkind: ${kind}\nmetadata: ${meta}\nspec: ${typeof spec === 'string' ? spec : flow(spec)}\n`;
}

/** Documents as one multi-document YAML file (nested arrays are flattened, empty ones skipped). */
export function calicoYaml(...docs: Array<string | readonly string[]>): string {
  return docs.flat().map((d) => (d.endsWith('\n') ? d : `${d}\n`)).join('---\n');
}

/** `<node>-<cidr with . / : as ->`: the BlockAffinity name the tests and the demo use. */
export function affinityName(node: string, cidr: string): string { return `${node}-${cidr.replace(/[./:]/g, '-')}`; }

/** The resources tern reads, with the defaults the tests rely on spelled out once. */
export const calico = {
  bgpConfiguration: (spec: Spec, name = 'default') => calicoDoc('BGPConfiguration', name, spec),
  /** A Node with its `spec.bgp` (`{ ipv4Address: 'A/24', … }`). */
  node: (name: string, bgp: Spec, labels?: Record<string, string>) => calicoDoc('Node', name, { bgp }, labels),
  /** An IPPool; blockSize 26 (IPv4) or 122 (IPv6) unless `extra` says otherwise. */
  ipPool: (name: string, cidr: string, extra: Spec = {}) =>
    calicoDoc('IPPool', name, { cidr, blockSize: cidr.includes(':') ? 122 : 26, ...extra }),
  blockAffinity: (node: string, cidr: string, state: 'confirmed' | 'pending' = 'confirmed', name = affinityName(node, cidr)) =>
    calicoDoc('BlockAffinity', name, { node, cidr, state }),
  bgpPeer: (name: string, spec: Spec) => calicoDoc('BGPPeer', name, spec),
  bgpFilter: (name: string, spec: Spec | string) => calicoDoc('BGPFilter', name, spec),
  /** A Kubernetes v1 Secret (a file datastore may hold them for BGP passwords). */
  secret: (name: string, namespace: string, stringData: Record<string, string>) =>
    `apiVersion: v1\nkind: Secret\nmetadata: ${flow({ name, namespace })}\ntype: Opaque\nstringData: ${flow(stringData)}\n`,
};

/** A node of a cluster: its Node resource when `ip` (`addr/len`) is given (labelled
 *  route-reflector=true when it has a cluster id), its block's affinity when `block` is. */
export interface ClusterNode { name: string; ip?: string; block?: string; rrClusterId?: string }

/** The labels and the BGPPeer of Calico's route reflector docs: every node peers with the nodes
 *  labelled `route-reflector: "true"`. */
export const RR_LABELS = { 'route-reflector': 'true' };
export const rrPeer = (): string =>
  calico.bgpPeer('peer-with-route-reflectors', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" });

/** A calico-node cluster's resources as an install leaves them: the default BGPConfiguration,
 *  the default IPv4 pool (blockSize 26, no encapsulation, natOutgoing), the Nodes, the confirmed
 *  block affinities. */
export function clusterDocs(o: { asNumber: number; mesh: boolean; pool?: string; nodes: readonly ClusterNode[] }): string[] {
  return [
    calico.bgpConfiguration({ asNumber: o.asNumber, nodeToNodeMeshEnabled: o.mesh, logSeverityScreen: 'Info' }),
    calico.ipPool('default-ipv4-ippool', o.pool ?? '10.244.0.0/16', { ipipMode: 'Never', natOutgoing: true }),
    ...o.nodes.filter((n) => n.ip).map((n) => (n.rrClusterId
      ? calico.node(n.name, { ipv4Address: n.ip, routeReflectorClusterID: n.rrClusterId }, RR_LABELS)
      : calico.node(n.name, { ipv4Address: n.ip }))),
    ...o.nodes.filter((n) => n.block).map((n) => calico.blockAffinity(n.name, n.block!)),
  ];
}
