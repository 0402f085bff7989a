// Prometheus metrics, read at scrape time from counters the daemon already keeps (no
// per-route work per scrape, no bookkeeping on hot paths). Served through the control
// socket (`tern metrics`) and, with --metrics-listen HOST:PORT, over HTTP at /metrics, next
// to the probes /livez and /readyz (src/api/health.ts).
import http from 'node:http';
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';
import type { PeerStatusJson } from './types.js';
import type { HealthReply, HealthVerdict } from './health.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

export interface MetricsSource {
  peers(): PeerStatusJson[];
  prefixes(): { ipv4: number; ipv6: number };
  /** Routes tern has in the kernel now, and kernel requests refused since start; null without FIB. */
  fib(): { installed: number; failed: number } | null;
  errors(): number;
  /** etcd watches found stalled behind a compaction since start (0 on a file datastore). */
  datastoreWatchStalls(): number;
}

export function createMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  // The standard process_* and nodejs_* series (CPU, RSS, heap spaces, event-loop lag), as
  // every Node.js exporter has them: what an operator graphs next to BIRD's memory.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 }); // 10 wake-ups a second, not 100
  const peerGauge = (name: string, help: string, labelNames: string[], value: (p: PeerStatusJson) => number) =>
    new Gauge({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const p of source.peers()) this.set(Object.fromEntries(labelNames.map((l) => [l, l === 'peer' ? p.address : String(p[l as keyof PeerStatusJson])])), value(p));
      },
    });
  peerGauge('tern_bgp_peer_up', '1 when the BGP session is Established', ['peer', 'type', 'family'], (p) => (p.bgpState === 'Established' ? 1 : 0));
  peerGauge('tern_bgp_peer_routes_received', 'Routes held from the peer', ['peer'], (p) => p.received);
  peerGauge('tern_bgp_peer_routes_advertised', 'Routes advertised to the peer', ['peer'], (p) => p.advertised);
  new Gauge({
    name: 'tern_rib_prefixes', help: 'Prefixes in the Loc-RIB', labelNames: ['family'], registers: [registry],
    collect() { const c = source.prefixes(); this.set({ family: 'ipv4' }, c.ipv4); this.set({ family: 'ipv6' }, c.ipv6); },
  });
  new Gauge({
    name: 'tern_fib_routes_installed', help: 'Routes tern has written into the kernel', registers: [registry],
    collect() { this.set(source.fib()?.installed ?? 0); },
  });
  new Gauge({
    name: 'tern_fib_requests_failed', help: 'Kernel route requests refused since start', registers: [registry],
    collect() { this.set(source.fib()?.failed ?? 0); },
  });
  new Gauge({
    name: 'tern_errors', help: 'Current daemon errors (datastore, config, kernel, ACL)', registers: [registry],
    collect() { this.set(source.errors()); },
  });
  new Gauge({
    name: 'tern_datastore_watch_stalls', help: 'etcd watches found stalled (behind a compaction, or never confirmed) and re-read since start', registers: [registry],
    collect() { this.set(source.datastoreWatchStalls()); },
  });
  return registry;
}

/**
 * Serves /metrics on HOST:PORT, and the probes /livez and /readyz (200 or 503, one line
 * saying why) when `health` is given; returns a close function.
 */
export async function serveMetrics(listen: string, registry: Registry, log: Logger, health?: () => HealthReply): Promise<() => Promise<void>> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--metrics-listen must be HOST:PORT (got "${listen}")`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (health && (path === '/livez' || path === '/readyz')) {
      let v: HealthVerdict;
      try {
        const h = health();
        v = path === '/livez' ? h.live : h.ready;
      } catch (err) {
        v = { ok: false, reason: `not ${path === '/livez' ? 'live' : 'ready'}: ${errorMessage(err)}` };
      }
      res.writeHead(v.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${v.reason}\n`);
      return;
    }
    if (path !== '/metrics') { res.writeHead(404).end(); return; }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err) => { log.warn('metrics failed', { error: errorMessage(err) }); res.writeHead(500).end(); },
    );
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(Number(m[2]), host, () => resolve()); });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
