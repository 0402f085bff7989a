// Parsers of the selectable kinds WorkloadEndpoint, HostEndpoint, NetworkSet and
// GlobalNetworkSet: one function per kind, from the resource to its typed value
// (model/policy.ts). Addresses go through the nets grammar (parseNets: canonical, split by
// family), named ports through the protocol grammar (net/protocol.ts). An entry that does
// not parse is in `refused` (validation reports the first); the value is still usable: a
// nets list with a refused entry is empty (its addresses are never half-known), a refused
// named port is left out.
import { canonicalAddress } from '../net/prefix.js';
import { parseProtocol } from '../net/protocol.js';
import { errorMessage } from '../util/errors.js';
import { ModelError } from './errors.js';
import { parseNets } from './parse-policy.js';
import type { Endpoint, NamedPort, Nets, NetworkSet } from './policy.js';
import type { GlobalNetworkSetResource, HostEndpointResource, NetworkSetResource, WorkloadEndpointResource } from './types.js';

const NO_NETS: Nets = { v4: [], v6: [] };
type Refuse = (field: string, reason: string) => void;

/** All of `list` as nets, or none when an entry does not parse (each such entry refused). */
function netsOf(list: unknown, field: string, refuse: Refuse | null, needLength = false): Nets {
  if (!Array.isArray(list) || list.length === 0) return NO_NETS;
  let ok = true;
  list.forEach((n, i) => {
    try {
      parseNets([n]);
      if (needLength && !(n as string).includes('/')) refuse?.(`${field}[${i}]`, `"${n as string}" must be an address with a prefix length, e.g. "10.0.0.1/24"`);
    } catch (e) {
      ok = false;
      refuse?.(`${field}[${i}]`, errorMessage(e));
    }
  });
  return ok ? parseNets(list) : NO_NETS;
}

/** An endpoint's spec.ports: name, protocol (the one grammar) and port 1..65535. */
function namedPorts(list: unknown, refuse: Refuse): NamedPort[] {
  const out: NamedPort[] = [];
  (Array.isArray(list) ? list : []).forEach((v, i) => {
    const field = `spec.ports[${i}]`;
    const p = (v ?? {}) as { name?: unknown; protocol?: unknown; port?: unknown };
    if (typeof p.name !== 'string' || p.name === '') return refuse(`${field}.name`, 'is required');
    let protocol: number;
    try {
      protocol = parseProtocol(p.protocol);
    } catch (e) {
      return refuse(`${field}.protocol`, errorMessage(e));
    }
    if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      return refuse(`${field}.port`, `must be an integer 1..65535, got ${p.port === undefined ? 'nothing' : JSON.stringify(p.port)}`);
    }
    out.push({ name: p.name, protocol, port: p.port });
  });
  return out;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function refuser(kind: string, name: string): { refused: ModelError[]; refuse: Refuse } {
  const refused: ModelError[] = [];
  return { refused, refuse: (field, reason) => void refused.push(new ModelError(kind, name, field, reason)) };
}

/** `key` is the Snapshot's key ("namespace/name"). */
export function parseWorkloadEndpoint(r: WorkloadEndpointResource, key = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`): Endpoint {
  const s = r.spec;
  const { refused, refuse } = refuser('WorkloadEndpoint', r.metadata.name);
  return {
    kind: 'WorkloadEndpoint', key, namespace: r.metadata.namespace ?? 'default', node: s.node,
    iface: typeof s.interfaceName === 'string' ? s.interfaceName : '',
    labels: r.metadata.labels ?? {}, profiles: strings(s.profiles),
    addrs: netsOf(s.ipNetworks, 'spec.ipNetworks', refuse, true), expectedIPs: [],
    allowSpoofed: netsOf(s.allowSpoofedSourcePrefixes, 'spec.allowSpoofedSourcePrefixes', null),
    ports: namedPorts(s.ports, refuse), orchestrator: s.orchestrator ?? 'k8s',
    serviceAccountName: typeof s.serviceAccountName === 'string' ? s.serviceAccountName : null,
    refused,
  };
}

export function parseHostEndpoint(r: HostEndpointResource, key = r.metadata.name): Endpoint {
  const s = r.spec;
  const { refused, refuse } = refuser('HostEndpoint', r.metadata.name);
  const expectedIPs: string[] = [];
  (Array.isArray(s.expectedIPs) ? s.expectedIPs : []).forEach((ip: unknown, i) => {
    try {
      expectedIPs.push(canonicalAddress(ip as string));
    } catch {
      refuse(`spec.expectedIPs[${i}]`, `${JSON.stringify(ip)} is not an IP address`);
    }
  });
  return {
    kind: 'HostEndpoint', key, namespace: null, node: s.node,
    iface: typeof s.interfaceName === 'string' ? s.interfaceName : '',
    labels: r.metadata.labels ?? {}, profiles: strings(s.profiles),
    addrs: netsOf(s.expectedIPs, 'spec.expectedIPs', null), expectedIPs, allowSpoofed: NO_NETS,
    ports: namedPorts(s.ports, refuse), orchestrator: '', serviceAccountName: null,
    refused,
  };
}

/** `key` is the Snapshot's key ("namespace/name"). */
export function parseNetworkSet(r: NetworkSetResource, key = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`): NetworkSet {
  const { refused, refuse } = refuser('NetworkSet', r.metadata.name);
  return { kind: 'NetworkSet', key, namespace: r.metadata.namespace ?? 'default', labels: r.metadata.labels ?? {}, nets: netsOf(r.spec.nets, 'spec.nets', refuse), refused };
}

export function parseGlobalNetworkSet(r: GlobalNetworkSetResource, key = r.metadata.name): NetworkSet {
  const { refused, refuse } = refuser('GlobalNetworkSet', r.metadata.name);
  return { kind: 'GlobalNetworkSet', key, namespace: null, labels: r.metadata.labels ?? {}, nets: netsOf(r.spec.nets, 'spec.nets', refuse), refused };
}
