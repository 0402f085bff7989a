// BGP sessions: the RFC 4271 §8 FSM as a pure step function (fsm.ts), OPEN building (one
// frozen message and encoding shared by the sessions with the same settings) and checking
// (open.ts), capability negotiation (capabilities.ts; done once per received capability list
// and settings, its frozen result shared but for the peer's identifier), received frames to FSM
// events (intake.ts), one TCP connection bound to the FSM, Framer, Clock and logger
// (session.ts) with its timers (timers.ts), its counters and what the connection saw and
// how it ended (session-report.ts), TCP details and TTL policy (transport.ts; a net.Socket is
// read through Node's user-buffer path, one shared buffer, not its Readable stream), socket
// options through libc (sockopt.ts), and one configured peer with its outgoing/incoming
// connection pair, collision resolution, the connection it holds while Established to tell a
// restarted peer from a late dial (RFC 4724 §4.2) and status row (peer.ts; the handle, sink
// and status types and the GR rule it applies: peer-view.ts).
//
// Invariants
// - Only this folder touches sockets. session.ts is the one place that catches
//   BgpWireError: `reset` → NOTIFICATION and close; discard / treat-as-withdraw → the
//   marked UpdateMessage is delivered and each cause logged once.
// - Time only through Clock (timers included); logs through per-peer winston children
//   ({peer, address, localAs, peerAs}), named events, nothing per route.
// - Every protocol error ends in the NOTIFICATION the RFCs name: header 1/x (Framer), OPEN
//   2/x (codec + open.ts), UPDATE 3/x (codec), hold timer 4/0, FSM 5/x (RFC 6608), Cease 6/x
//   (RFC 4486: 6/2 stop, 6/3 removed, 6/6 changed, 6/7 collision), ROUTE-REFRESH 7/x.
// - Async model: single-threaded; socket events and Clock timers feed FSM events one at a
//   time; actions run in order, the state change is announced, then established / down /
//   update events are emitted.
//
// TCP MD5 (RFC 2385), GTSM (RFC 5082) and the TTL of eBGP single-hop sessions are socket
// options set through an FFI (sockopt.ts): on the connecting socket before connect(), per
// peer address on the listener, and on each accepted socket (transport.ts says which TTL).
// IPv6 link-local peers are not started (no interface to scope them; peer.ts).
//
// RFCs: 4271 (§6 errors, §6.8 collisions, §8 FSM, §10 timers), 5492, 4760 §8, 6793, 7911,
// 4724 §4.2, 8538, 2918, 7313, 6608, 4486, 6286.
export { step, INITIAL_STATE, fsmErrorSubcode } from './fsm.js';
export type { BgpState, DownReason, StopReason, FsmState, FsmEvent, FsmAction, FsmContext, StepResult, TimerName, ProtocolError } from './fsm.js';
export { negotiate, negotiateTimers, announcedAs, announcedFamilies } from './capabilities.js';
export type { Negotiated, PeerGracefulRestart } from './capabilities.js';
export { buildOpen, encodedOpen, validateOpen, compareRouterIds } from './open.js';
export type { LocalOpenSettings } from './open.js';
export { Session } from './session.js';
export type { LastError, NotStartedReason, SessionCounters, SessionEnd, SessionOptions } from './session.js';
export { Peer, gracefulRestartApplies } from './peer.js';
export type { NotStarted, PeerHandle, PeerStatus, ProtocolState, StatusBgpState } from './peer.js';
export { ttlPolicy, tcpSecurity, netConnect } from './transport.js';
export type { ConnectFn, ConnectRequest, TtlPolicy } from './transport.js';
