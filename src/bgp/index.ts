// tern's BGP-4 speaker (the part of calico-node that BIRD was).
//
//   wire/      pure codec: Framer, decodeMessage / encodeMessage, UPDATE packers; throws
//              only BgpWireError (RFC 7606 ladder)
//   session/   FSM (pure), OPEN / capabilities, one connection (the only socket code and
//              the only BgpWireError catch site), one configured peer (collision, backoff)
//   speaker.ts listener + peer registry: setPeers diff, stop(), status(), events
//   backoff.ts exponential reconnect backoff with jitter
//
// Invariants
// - The daemon sees peers only through PeerHandle ({spec, negotiated, write, send, 'drain'})
//   and Speaker events: established, down(reason, gracefulRestartApplies), update,
//   routeRefresh, stateChange.
// - Sessions restart only when a session parameter changed (sessionParamsDiffer, or the TTL
//   a type change sets: speaker.ts).
// - Time through Clock, logs through winston children; no per-route logging.
//
// Supported standards: RFC 4271 (BGP-4), 4760 (MP-BGP), 5492 (capabilities), 6793 (4-octet
// AS), 7911 (ADD-PATH), 4724 + 8538 (graceful restart, receiving side signalled), 2918 +
// 7313 (route refresh), 6608 (FSM error subcodes), 4486 (Cease subcodes), 6286 (BGP id),
// 7606 (revised UPDATE error handling), 8654 (extended messages, when the peer offers it
// and we do: not offered yet), 2385 (TCP MD5) and 5082 (GTSM) through socket options set
// with an FFI (session/sockopt.ts). Not set: eBGP single-hop TTL 1.
export { Speaker } from './speaker.js';
export type { SpeakerOptions, SpeakerEvents, GracefulRestartState } from './speaker.js';
export { Backoff, ConnectBackoff } from './backoff.js';
export type { BackoffOptions, RetryPolicy } from './backoff.js';
export type { PeerHandle, PeerStatus, ProtocolState, StatusBgpState, Negotiated, PeerGracefulRestart, DownReason, BgpState, ConnectFn } from './session/index.js';
