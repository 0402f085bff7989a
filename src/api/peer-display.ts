// calicoctl's words for a peer: the TYPE column ("node-to-node mesh", "global", "node
// specific") and the INFO column ("Established", "Active Socket: Connection refused",
// "Passive Received: Administrative shutdown", …), rendered from the typed state the
// sessions expose. The protocol layer never builds these strings.
import type { LastError } from '../bgp/session/session.js';
import type { ProtocolState, StatusBgpState } from '../bgp/session/peer.js';
import { describeNotification } from '../bgp/wire/describe.js';
import type { PeerType } from '../peering/peer-spec.js';

/** `calicoctl node status` PEER TYPE column. */
export const PEER_TYPE_TEXT: Readonly<Record<PeerType, string>> = {
  mesh: 'node-to-node mesh',
  global: 'global',
  node: 'node specific',
  localWorkload: 'local workload',
};

/** NOTIFICATION text as BIRD shows it: the subcode's words when there is one ("Bad Peer AS"). */
export function notificationText(code: number, subcode: number): string {
  const full = describeNotification(code, subcode);
  const colon = full.indexOf(': ');
  return colon >= 0 ? full.slice(colon + 2) : full;
}

/** BIRD's "last error" text. */
export function lastErrorText(e: LastError | null): string {
  if (e === null) return '';
  switch (e.kind) {
    case 'socket': return `Socket: ${e.message}`;
    case 'received': return `Received: ${notificationText(e.code, e.subcode)}`;
    case 'sent': return `BGP Error: ${notificationText(e.code, e.subcode)}`;
    case 'gracefulRestart': return 'Error: Graceful restart';
    case 'notStarted': return `Error: ${e.detail}`;
  }
}

/** The INFO column: the BGP state and the last error; a protocol that is down shows only the error. */
export function peerInfo(s: { readonly state: ProtocolState; readonly bgpState: StatusBgpState; readonly lastError: LastError | null }): string {
  const error = lastErrorText(s.lastError);
  return s.state === 'down' ? (error || 'Down') : [s.bgpState, error].filter(Boolean).join(' ');
}
