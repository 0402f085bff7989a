// Calico's node-to-node mesh: one session per other node and per family, as the confd
// template writes them (`protocol bgp Mesh_<ip>`).
import type { PeerSpec } from '../config/peer-spec.js';
import { addressOf, FAMILIES, isGreater, makeSpec, protocolId } from './session.js';
import type { PeerSetInput } from './types.js';

/**
 * Mesh sessions for `input.self`. None when the mesh is disabled or when this node is a
 * route reflector (has a cluster id). Other route reflectors are skipped; so are nodes
 * without an address of the family, and our own address.
 */
export function meshSessions(input: PeerSetInput): PeerSpec[] {
  const { self, mesh } = input;
  if (!mesh.enabled || self.clusterId !== undefined) return [];
  const order = input.addressOrder ?? 'string';
  const nodes = [...input.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: PeerSpec[] = [];
  for (const family of FAMILIES) {
    const own = addressOf(self, family);
    if (own === undefined) continue; // this family is disabled on this node
    for (const node of nodes) {
      const address = addressOf(node, family);
      if (node.name === self.name || node.clusterId !== undefined) continue;
      if (address === undefined || address === own) continue;
      out.push(makeSpec({
        name: `Mesh_${protocolId(address)}`,
        type: 'node-to-node mesh',
        address,
        port: node.listenPort,
        family,
        localAs: self.asNumber,
        peerAs: node.asNumber,
        sourceAddress: own,
        // We wait when the peer's address is greater: only the higher address connects
        // (Calico's `passive on`), so a restarting node's GR is not aborted by
        // the peer opening a second connection (Calico #1423).
        passive: isGreater(address, own, order),
        gracefulRestartTime: mesh.restartTime,
        nextHopMode: 'auto',
        routeReflectorClient: false,
        password: mesh.password,
        passwordUnresolved: mesh.passwordUnresolved,
        calicoNode: node.name,
      }));
    }
  }
  return out;
}
