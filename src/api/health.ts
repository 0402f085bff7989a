// Liveness and readiness, as calico-node's `-bird-live` / `-bird-ready` answer them, from a
// plain view of the daemon (pure: the daemon builds HealthView, the control socket, the
// CLI and the metrics HTTP server print the verdict).
//
// Live: the daemon's event loop answers (the caller's deadline decides; an answer at all
// is the proof) and, once started, its BGP listener is open.
// Ready: the BGP speaker runs, the first datastore snapshot is applied, tern is not in
// restart recovery (it restarted with forwarding state kept and End-of-RIB is still
// outstanding: RFC 4724 §4.1; calico-node's "graceful restart in progress"), and every
// configured peer is Established. A node with no configured peer is ready. Sessions with
// local workloads (Local_Workload_…) do not count, as calico-node's check keeps only
// Global_, Node_ and Mesh_ protocols.
// Unlike calico-node, readiness does not relax to "one peer Established" some time after
// start: a peer that is down keeps the node not ready for as long as it is down.

export interface HealthPeer {
  readonly address: string;
  readonly name: string;
  readonly bgpState: string;
}

export interface HealthView {
  /** start() finished: first snapshot applied, speaker started. */
  readonly started: boolean;
  /** What the daemon is doing while not started (loading the datastore, …). */
  readonly phase: string;
  readonly speakerListening: boolean;
  /** Restarting with forwarding state kept and End-of-RIB outstanding. */
  readonly restartRecovery: boolean;
  readonly peers: readonly HealthPeer[];
}

export interface HealthVerdict {
  readonly ok: boolean;
  /** One line saying why. */
  readonly reason: string;
}

export interface HealthReply {
  readonly live: HealthVerdict;
  readonly ready: HealthVerdict;
}

export function liveness(v: HealthView): HealthVerdict {
  if (!v.started) return { ok: true, reason: `live: ${v.phase}` };
  if (!v.speakerListening) return { ok: false, reason: 'not live: the BGP listener is closed' };
  return { ok: true, reason: 'live: the daemon answers and the BGP listener is open' };
}

export function readiness(v: HealthView): HealthVerdict {
  if (!v.started) return { ok: false, reason: `not ready: ${v.phase}` };
  if (!v.speakerListening) return { ok: false, reason: 'not ready: the BGP speaker is not running' };
  if (v.restartRecovery) return { ok: false, reason: 'not ready: graceful restart in progress (waiting for End-of-RIB from peers)' };
  const peers = v.peers.filter((p) => !p.name.startsWith('Local_Workload_'));
  const down = peers.filter((p) => p.bgpState !== 'Established');
  if (down.length > 0) {
    return { ok: false, reason: `not ready: BGP not established with ${down.map((p) => p.address).join(', ')}` };
  }
  return { ok: true, reason: peers.length === 0 ? 'ready: no BGP peers configured' : `ready: ${peers.length} BGP peer${peers.length === 1 ? '' : 's'} Established` };
}

export function health(v: HealthView): HealthReply {
  return { live: liveness(v), ready: readiness(v) };
}
