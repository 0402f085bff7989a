// Felix's endpoint-status files, as confd's local BGP peer watcher reads them
// (confd/pkg/backends/calico/local_bgp_peer_watcher.go, libcalico-go epstatusfile): one JSON
// file per workload endpoint in `<prefix>/endpoint-status/` (prefix
// CALICO_ENDPOINT_STATUS_PATH_PREFIX, default /var/run/calico), with `bgpPeerName` set by
// Felix when the workload matches a BGPPeer's localWorkloadSelector on this node. The first
// IPv4 and IPv6 address of each such workload becomes a passive session.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalAddress } from '../net/prefix.js';
import type { LocalWorkload } from '../peering/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';

export type { LocalWorkload };

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

/**
 * The workloads selected for local BGP peers (none without a prefix), read at start() and
 * again every `pollMs` (confd's 30 s); `onChange` runs after a read that changed the list.
 */
export class LocalWorkloadPoller {
  private list: readonly LocalWorkload[] = [];
  private key = '[]';
  private timer: TimerHandle | null = null;

  constructor(private readonly prefix: string | undefined, private readonly pollMs: number, private readonly clock: Clock, private readonly log: Logger) {}

  get workloads(): readonly LocalWorkload[] {
    return this.list;
  }

  /** Reads the status files now; true when the selected workloads changed. */
  read(): boolean {
    if (this.prefix === undefined) return false;
    const list = readEndpointStatus(this.prefix);
    const key = JSON.stringify(list);
    if (key === this.key) return false;
    this.key = key;
    this.list = list;
    this.log.info('local workload peers changed', { event: 'localWorkloads', workloads: list.length });
    return true;
  }

  /** Re-reads every pollMs from now on. */
  poll(onChange: () => void): void {
    if (this.prefix === undefined) return;
    this.timer = this.clock.setTimer(this.pollMs, () => {
      if (this.read()) onChange();
      this.poll(onChange);
    });
  }

  stop(): void {
    this.timer?.cancel();
  }
}
