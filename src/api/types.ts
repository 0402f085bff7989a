// JSON shapes of the control socket and of `tern status --json` / `tern routes --json`.
// These are part of the external contract: add fields, never rename or remove them.

export interface PeerStatusJson {
  /** Peer IP address. */
  address: string;
  /** "node-to-node mesh" | "global" | "node specific" */
  type: string;
  /** BIRD protocol state as calicoctl shows it: up | start | down | stop | wait | passive */
  state: string;
  /** Idle | Connect | Active | OpenSent | OpenConfirm | Established | Passive */
  bgpState: string;
  /** ISO 8601 time of the last state change; unchanged while the session stays up. */
  since: string;
  /** calicoctl's INFO column: BGP state, then the last error. */
  info: string;
  /** Peer AS number. */
  asn: number;
  /** Routes received from the peer and currently held (Adj-RIB-In). */
  received: number;
  /** Routes currently advertised to the peer (Adj-RIB-Out). */
  advertised: number;
  name: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  localAs: number;
  peerRouterId?: string;
  holdTime?: number;
  /** Peer is a route-reflector client of this node. */
  routeReflectorClient?: boolean;
  /** RFC 4724 helper state while the peer's routes are kept as stale. */
  gracefulRestart?: 'restarting' | 'awaitingEndOfRib';
  /** Routes refused, by cause; present once any was (counts since the peer was configured). */
  refused?: {
    /** Received NLRI of an address family the session did not negotiate (ignored). */
    familyNotNegotiated: number;
    /** Received announcements treated as withdrawn for an unusable next hop. */
    invalidNextHop: number;
    /** Sessions ended with Cease 6/1 for exceeding the import prefix limit. */
    prefixLimitExceeded: number;
    /** Routes not sent to this peer because their attributes do not fit one message (this session). */
    attributesTooLong: number;
  };
  /**
   * Present when the session is configured but not started: `passwordUnresolved` (its
   * password secretKeyRef names no value), `socketOptionsUnavailable` (TCP MD5 / TTL / GTSM
   * cannot be set on this host), `linkLocalPeer` (an IPv6 link-local peer address: not
   * supported). `detail` names the secret and key, never a value.
   */
  notStarted?: { reason: 'passwordUnresolved' | 'socketOptionsUnavailable' | 'linkLocalPeer'; detail: string };
}

export interface RouteJson {
  prefix: string;
  family: 'ipv4' | 'ipv6';
  nextHop: string;
  /** This path is the best path for its prefix. */
  best: boolean;
  /** Member of the multipath (ECMP) set installed in the kernel. */
  multipath?: boolean;
  /** AS path as text, e.g. "65001 {65002,65003}" ("" when local). */
  asPath: string;
  /** "local" (own block or kernel-learned) or the peer address it came from. */
  source: string;
  sourceType?: 'block' | 'kernel' | 'peer';
  pathId?: number;
  origin?: 'igp' | 'egp' | 'incomplete';
  localPref?: number;
  med?: number;
  communities?: string[];
  largeCommunities?: string[];
  originatorId?: string;
  clusterList?: string[];
  stale?: boolean;
  /** Why this path won (best only): the best-path step that decided. */
  reason?: string;
  /** Kernel state of the prefix (best paths only). */
  fib?: 'installed' | 'pending' | 'error' | 'none';
  fibError?: string;
}

export interface DaemonStatusJson {
  node: string;
  routerId: string;
  asNumber: number;
  listenPort: number;
  startedAt: string;
  fib: 'enabled' | 'disabled';
  errors: string[];
  /** The datastore state in use: its kind and, for etcd, the revision applied. */
  datastore?: { kind: 'file' | 'etcd'; etcdRevision?: number; watchStalls?: number };
}

export interface StatusReply {
  daemon: DaemonStatusJson;
  peers: PeerStatusJson[];
}

export interface RoutesReply {
  routes: RouteJson[];
}
