// What the routing core derives from a node's BGP configuration for the rest of the
// routing plane: the export context handed to the Adj-RIB-Out (src/policy/export.ts), and
// the graceful-restart policy at start (RFC 4724 §4.1).
import { confirmedBlocks, type NodeBgpConfig } from '../peering/node-config.js';
import type { ExportContext } from '../policy/export.js';

export function exportContextOf(cfg: NodeBgpConfig): ExportContext {
  const reflected = [...cfg.services.loadBalancer, ...cfg.services.external];
  return {
    localAs: cfg.asNumber,
    routerId: cfg.routerId,
    ...(cfg.clusterId ? { clusterId: cfg.clusterId } : {}),
    pools: cfg.pools.map((p) => ({ cidr: p.cidr, disableBGPExport: p.disableBGPExport, disabled: p.disabled })),
    ownBlocks: confirmedBlocks(cfg),
    localAddresses: {
      ...(cfg.ipv4 ? { ipv4: cfg.ipv4.address } : {}),
      ...(cfg.ipv6 ? { ipv6: cfg.ipv6.address } : {}),
    },
    ...(cfg.services.advertise.length > 0 ? { staticRoutes: cfg.services.advertise } : {}),
    ...(cfg.clusterId && reflected.length > 0 ? { reflectorServiceRanges: reflected } : {}),
    ...(cfg.prefixCommunities.length > 0 ? { prefixCommunities: cfg.prefixCommunities } : {}),
    ...(cfg.normalRoutePriority ? { normalRoutePriority: cfg.normalRoutePriority } : {}),
  };
}

/**
 * RFC 4724 §4.1 at start: restarting with forwarding state (adopted kernel routes), or a
 * reflector without a FIB: it is not in the forwarding path, so its forwarding state is
 * always preserved (F), and it cannot tell a restart from a first start. Either defers
 * advertisement until peers have sent End-of-RIB (and sets R meanwhile, so that two
 * restarting speakers do not wait on each other), so clients keep using its stale routes
 * until it sends a complete table.
 */
export function restartPolicy(o: { adopted: number; fib: boolean; clusterId?: string | undefined }): { defer: boolean; forwardingPreserved: boolean } {
  const forwardingPreserved = o.adopted > 0 || (!o.fib && o.clusterId !== undefined);
  return { defer: forwardingPreserved, forwardingPreserved };
}
