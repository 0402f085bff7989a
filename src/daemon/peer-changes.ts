// Configuration changes the routing core applies to established sessions, beside the
// speaker's own (which restarts a session whose parameters changed, sessionParamsDiffer):
// - BGPFilter chains changed: the peer's paths are re-filtered in place (import) and what
//   is advertised to it is re-evaluated (export); no session reset.
// - the node's route reflector cluster id changed or cleared: paths an iBGP peer sent with
//   the old id in CLUSTER_LIST were dropped on receipt (RFC 4456 §8) and are not kept, so
//   each established iBGP peer must send its routes again. A peer that negotiated route
//   refresh is asked for them (ROUTE-REFRESH, RFC 2918); a session without it is restarted
//   (Cease 6/6, other configuration change, RFC 4486), which is what BIRD does for any
//   `rr cluster id` change (bgp_reconfigure compares it with the session's configuration,
//   and a difference restarts the protocol). Graceful restart applies to that restart as to
//   any Cease: a peer that negotiated the RFC 8538 N bit keeps our routes stale meanwhile,
//   and we keep its routes stale until its End-of-RIB when it did; otherwise both sides
//   flush and relearn.
import type { PeerHandle } from '../bgp/session/peer.js';
import { RouteRefreshSubtype } from '../bgp/wire/constants.js';
import { familyToAfiSafi } from '../bgp/wire/family.js';
import type { FibSync } from '../fib/fib-sync.js';
import type { Family } from '../net/prefix.js';
import type { PeerSpec } from '../peering/peer-spec.js';
import { compileChain, type FilterChainSpec } from '../policy/bgp-filter.js';
import type { AdjRibOutManager } from '../rib/adj-rib-out-manager.js';
import type { LocRib } from '../rib/loc-rib.js';
import type { Logger } from '../util/log.js';
import { importFilterOf } from './route-interfaces.js';

/** An Established session as the routing core keeps it. */
export interface EstablishedPeer {
  readonly handle: PeerHandle;
  readonly family: Family;
  /** The BGPFilter chains in force, as JSON (change detection). */
  importFilter: string;
  exportFilter: string;
}

export function chainKey(chain: FilterChainSpec | undefined): string {
  return chain ? JSON.stringify(chain) : '';
}

/**
 * The cluster id changed or was cleared (RFC 4456 §8): every established iBGP peer carrying
 * its session's family sends its routes again, asked by ROUTE-REFRESH or, without route
 * refresh, through a restarted session (Cease 6/6).
 */
export function reacquireIbgpRoutes(established: ReadonlyMap<string, EstablishedPeer>, log: Logger): void {
  for (const [key, rt] of established) {
    const n = rt.handle.negotiated;
    if (!n || n.ebgp || !n.families.has(rt.family)) continue;
    if (n.routeRefresh) {
      rt.handle.send({ type: 'routeRefresh', ...familyToAfiSafi(rt.family), subtype: RouteRefreshSubtype.Normal });
      continue;
    }
    log.info('cluster id changed: restarting the session of a peer without route refresh so it sends its routes again', { event: 'clusterIdSessionRestart', peer: key });
    rt.handle.restartSession();
  }
}

/** BGPFilter chains changed for established peers: re-filter in place, no session reset. */
export function applyPeerFilters(
  peers: readonly PeerSpec[],
  established: ReadonlyMap<string, EstablishedPeer>,
  core: { rib: LocRib; out: AdjRibOutManager; fib: FibSync | null; log: Logger },
): void {
  for (const spec of peers) {
    const rt = established.get(spec.key);
    if (!rt) continue;
    const imp = chainKey(spec.importFilter);
    if (imp !== rt.importFilter) {
      rt.importFilter = imp;
      const moved = core.rib.setImportFilter(spec.key, importFilterOf(spec.importFilter, core.fib));
      core.log.info('import filter changed', { event: 'importFilterChanged', peer: spec.address, paths: moved });
    }
    const exp = chainKey(spec.exportFilter);
    if (exp !== rt.exportFilter) {
      rt.exportFilter = exp;
      const cur = core.out.get(spec.key);
      if (cur) {
        const { exportFilter: _old, ...base } = cur.peer;
        core.out.updatePeer({ ...base, ...(spec.exportFilter ? { exportFilter: compileChain(spec.exportFilter) } : {}) });
      }
      core.log.info('export filter changed', { event: 'exportFilterChanged', peer: spec.address });
    }
  }
}
