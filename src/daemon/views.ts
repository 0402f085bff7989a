// What `tern status` and `tern routes` show, built from the live parts. Read-only.
import type { Speaker } from '../bgp/speaker.js';
import type { NodeBgpConfig } from '../config/node-config.js';
import type { FibSync } from '../fib/fib-sync.js';
import type { PeerStatusJson, RouteJson, RoutesReply } from '../api/types.js';
import type { AsPathSegment } from '../bgp/wire/types.js';
import type { Path } from '../rib/path.js';
import type { RoutingCore } from './routing.js';
import { SOURCE_BLOCK } from './routing.js';

export function peersStatus(speaker: Speaker, core: RoutingCore, cfg: NodeBgpConfig): PeerStatusJson[] {
  const specs = new Map(cfg.peers.map((p) => [p.key, p]));
  return speaker.status().map((s) => {
    const counts = core.peerCounts(s.key);
    const stale = core.gr.state(s.key);
    const refused = { ...core.inboundCountsOf(s.key), attributesTooLong: core.out.get(s.key)?.stats.tooLong ?? 0 };
    const anyRefused = Object.values(refused).some((v) => v > 0);
    return {
      address: s.address,
      type: s.type,
      state: s.state,
      bgpState: s.bgpState,
      since: new Date(s.since).toISOString(),
      info: s.info,
      asn: s.peerAs,
      received: counts.received,
      advertised: counts.advertised,
      name: s.name,
      port: s.port,
      family: s.family,
      localAs: s.localAs,
      ...(s.routerId ? { peerRouterId: s.routerId } : {}),
      holdTime: s.holdTime,
      routeReflectorClient: specs.get(s.key)?.routeReflectorClient ?? false,
      ...(stale !== 'none' ? { gracefulRestart: stale } : {}),
      ...(anyRefused ? { refused } : {}),
      ...(s.notStarted ? { notStarted: { reason: s.notStarted.reason, detail: s.notStarted.detail } } : {}),
    };
  });
}

export function formatAsPath(segments: readonly AsPathSegment[] | undefined): string {
  if (!segments) return '';
  return segments
    .map((s) => (s.type === 1 || s.type === 4 ? `{${s.asns.join(',')}}` : s.type === 3 ? `(${s.asns.join(' ')})` : s.asns.join(' ')))
    .filter((x) => x.length > 0)
    .join(' ');
}

const ORIGIN = ['igp', 'egp', 'incomplete'] as const;

function community(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

function routeJson(prefix: string, family: 'ipv4' | 'ipv6', p: Path, best: boolean, multipath: boolean): RouteJson {
  const a = p.attrs.attrs;
  const local = p.source.kind === 'local';
  return {
    prefix,
    family,
    nextHop: p.attrs.nextHops[0] ?? a.nextHop ?? '',
    best,
    multipath,
    asPath: formatAsPath(a.asPath),
    source: local ? 'local' : p.source.address,
    sourceType: local ? (p.source.key === SOURCE_BLOCK ? 'block' : 'kernel') : 'peer',
    ...(p.pathId ? { pathId: p.pathId } : {}),
    ...(a.origin !== undefined ? { origin: ORIGIN[a.origin] } : {}),
    ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
    ...(a.med !== undefined ? { med: a.med } : {}),
    ...(a.communities?.length ? { communities: a.communities.map(community) } : {}),
    ...(a.largeCommunities?.length ? { largeCommunities: a.largeCommunities.map((l) => l.join(':')) } : {}),
    ...(a.originatorId ? { originatorId: a.originatorId } : {}),
    ...(a.clusterList?.length ? { clusterList: [...a.clusterList] } : {}),
    ...(p.stale ? { stale: true } : {}),
  };
}

export function routesView(core: RoutingCore, fib: FibSync | null): RoutesReply {
  const routes: RouteJson[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    for (const prefix of core.rib.prefixes(family)) {
      const view = core.rib.lookup(prefix);
      if (!view) continue;
      for (const p of view.paths) {
        const best = p === view.best;
        const r = routeJson(prefix, family, p, best, view.multipath.includes(p));
        if (best) {
          if (view.reason) r.reason = view.reason;
          const st = fib?.status(prefix);
          r.fib = st ? st.state : 'none';
          if (st?.error) r.fibError = st.error;
        }
        routes.push(r);
      }
    }
  }
  return { routes };
}
