// Felix's endpoint-status files, as confd's local BGP peer watcher reads them
// (confd/pkg/backends/calico/local_bgp_peer_watcher.go, libcalico-go epstatusfile): one JSON
// file per workload endpoint in `<prefix>/endpoint-status/` (prefix
// CALICO_ENDPOINT_STATUS_PATH_PREFIX, default /var/run/calico), with `bgpPeerName` set by
// Felix when the workload matches a BGPPeer's localWorkloadSelector on this node. The first
// IPv4 and IPv6 address of each such workload becomes a passive session.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalAddress } from '../net/prefix.js';

export interface LocalWorkload {
  /** The status file's name (the endpoint). */
  readonly name: string;
  /** The BGPPeer that selected it. */
  readonly bgpPeerName: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

export const DEFAULT_ENDPOINT_STATUS_PREFIX = '/var/run/calico';

/** One status file's JSON → a LocalWorkload, or undefined when not selected / unusable. */
export function parseEndpointStatus(name: string, text: string): LocalWorkload | undefined {
  let v: { bgpPeerName?: unknown; ipv4Nets?: unknown; ipv6Nets?: unknown };
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof v.bgpPeerName !== 'string' || v.bgpPeerName === '') return undefined;
  const first = (nets: unknown): string | undefined => {
    if (!Array.isArray(nets) || typeof nets[0] !== 'string') return undefined;
    try {
      return canonicalAddress(nets[0].split('/')[0] ?? '');
    } catch {
      return undefined;
    }
  };
  const ipv4 = first(v.ipv4Nets);
  const ipv6 = first(v.ipv6Nets);
  if (ipv4 === undefined && ipv6 === undefined) return undefined;
  return { name, bgpPeerName: v.bgpPeerName, ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) };
}

/** Every selected workload in `<prefix>/endpoint-status`, by file name; [] when the directory is absent. */
export function readEndpointStatus(prefix: string): LocalWorkload[] {
  const dir = join(prefix, 'endpoint-status');
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: LocalWorkload[] = [];
  for (const n of names) {
    try {
      const w = parseEndpointStatus(n, readFileSync(join(dir, n), 'utf8'));
      if (w) out.push(w);
    } catch {
      // a file being replaced: the next poll sees it
    }
  }
  return out;
}
