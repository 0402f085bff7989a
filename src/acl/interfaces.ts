// The host's interface addresses, for HostEndpoints that name no interface: Felix gives such
// a host endpoint every interface holding one of its expectedIPs. Read with `ip -j addr show`
// (in a network namespace with `ip -n NAME`), only when the snapshot has such a host endpoint;
// the companion reads them again at every resync, so an address that moves is followed within
// one resync period.
import { spawn } from 'node:child_process';
import { canonicalAddress } from '../net/prefix.js';
import { policyModel } from '../model/policy-model.js';
import type { Snapshot } from '../model/types.js';
import { AclError } from './nft.js';

/** Interface name → its addresses (canonical, no prefix length). */
export type InterfaceAddrs = ReadonlyMap<string, readonly string[]>;

export interface InterfaceSource {
  addresses(): Promise<InterfaceAddrs>;
}

/** True when a HostEndpoint of `node` needs the interface addresses (no interfaceName). */
export function needsInterfaces(snap: Snapshot, node: string): boolean {
  for (const h of policyModel(snap).hostEndpoints.values()) if (h.node === node && h.iface === '') return true;
  return false;
}

/** Parses `ip -j addr show` output. */
export function parseIpAddr(json: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const list = JSON.parse(json) as { ifname?: unknown; addr_info?: { local?: unknown }[] }[];
  for (const l of Array.isArray(list) ? list : []) {
    if (typeof l.ifname !== 'string') continue;
    const addrs: string[] = [];
    for (const a of l.addr_info ?? []) {
      if (typeof a.local !== 'string') continue;
      try { addrs.push(canonicalAddress(a.local)); } catch { /* not an IP address */ }
    }
    out.set(l.ifname, addrs);
  }
  return out;
}

/** `ip -j addr show`, in `netns` when given. */
export class IpAddrCommand implements InterfaceSource {
  constructor(private readonly opts: { netns?: string } = {}) {}

  addresses(): Promise<InterfaceAddrs> {
    const args = [...(this.opts.netns ? ['-n', this.opts.netns] : []), '-j', 'addr', 'show'];
    return new Promise((resolve, reject) => {
      const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', (err) => reject(new AclError('ERR_ACL_INTERFACES', `cannot run ip: ${err.message}`)));
      child.on('close', (code) => {
        if (code !== 0) { reject(new AclError('ERR_ACL_INTERFACES', `ip -j addr show failed: ${stderr.trim()}`)); return; }
        try { resolve(parseIpAddr(stdout)); } catch (err) { reject(new AclError('ERR_ACL_INTERFACES', `ip -j addr show: ${String(err)}`)); }
      });
    });
  }
}
