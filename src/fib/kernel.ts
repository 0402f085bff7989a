// The kernel seam of the FIB syncer: what FibSync needs from the routing table, with no
// Linux types. `NetlinkKernel` (netlink-kernel.ts) is the real implementation; tests use an
// in-memory one.
import type { Family } from '../net/prefix.js';

export type RouteType =
  | 'unspec' | 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast'
  | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'nat' | 'xresolve';

export interface KernelNextHop {
  gateway?: string;
  ifindex?: number;
  /** Interface name; for writes `ifindex` wins, `dev` is resolved when it is absent. */
  dev?: string;
  onlink: boolean;
  /** 1..256 (rtnh_hops + 1); only meaningful in multipath routes. */
  weight?: number;
}

export interface KernelRoute {
  /** Canonical prefix text (src/net/prefix.ts). */
  prefix: string;
  family: Family;
  /** Routing table id; 254 = main, the only table tern writes. */
  table: number;
  /** rtm_protocol; 12 = bird. */
  protocol: number;
  type: RouteType;
  /** rtm_scope as observed (253 = link); ignored on writes. */
  scope?: number;
  /** Empty for blackhole/unreachable/prohibit; several for a multipath route. */
  nextHops: KernelNextHop[];
  /** RTA_PRIORITY; IPv4 default 0, IPv6 default 1024. */
  metric?: number;
}

/** A route without its prefix, read-only (FibSync's interned RouteForm is one). */
export type RouteBody = Readonly<Omit<KernelRoute, 'prefix' | 'nextHops'>> & { readonly nextHops: readonly Readonly<KernelNextHop>[] };

/** The answer to a KernelRoutes.write: its error (none: done) and the prefix written. */
export type WriteAnswer = (err: Error | undefined, prefix: string) => void;

export interface Link {
  ifindex: number;
  name: string;
  /** IFF_UP (administratively up). */
  up: boolean;
}

export interface KernelRoutes {
  /** Every IPv4 and IPv6 route of every table. */
  dump(): Promise<KernelRoute[]>;
  /**
   * Adds or replaces (NLM_F_CREATE|NLM_F_REPLACE); with `exclusive`, only adds
   * (NLM_F_CREATE|NLM_F_EXCL: ERR_FIB_NETLINK_EEXIST when any route holds the slot).
   * Rejects with a KernelError.
   */
  replace(r: KernelRoute, exclusive?: boolean): Promise<void>;
  /** Deletes the route matching prefix, table, protocol and metric; rejects with a KernelError. */
  remove(r: KernelRoute): Promise<void>;
  /**
   * Optional: replace ('replace'), exclusive replace ('create') or remove of the route
   * `prefix` + `route`, answered through `done` (never synchronously; with the error, if any,
   * and the prefix, so one function made once can answer every write) instead of a promise.
   * FibSync uses it when present: a burst of writes then allocates no promise and no
   * KernelRoute per write. `route` is kept as given (it is immutable). `v4` is the prefix as
   * parseIpv4Prefix's number (address × 64 + length) when it is IPv4, else -1: the caller
   * parsed it once already (to find its pool), so the kernel need not parse it again.
   */
  write?(op: 'replace' | 'create' | 'remove', prefix: string, v4: number, route: RouteBody, done: WriteAnswer): void;
  /**
   * Subscribes to route and link changes. `onLost` is called when notifications were dropped
   * (socket overrun): the caller must dump again. The notifications of this object's own
   * writes may be left out (NetlinkKernel drops them in the kernel): a caller takes what its
   * writes did from their answers, never from their echoes.
   */
  watch(
    /** `replaced`: the notification carried NLM_F_REPLACE (the route took another's place). */
    onRoute: (r: KernelRoute, present: boolean, replaced?: boolean) => void,
    onLink: (l: Link, present: boolean) => void,
    onLost?: () => void,
  ): void;
  links(): Promise<Link[]>;
  close(): void;
}
