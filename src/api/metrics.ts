// Prometheus metrics, computed at scrape time from the daemon's live status (no per-route
// bookkeeping on hot paths). Served through the control socket (`tern metrics`) and, with
// --metrics-listen HOST:PORT, over HTTP at /metrics.
import http from 'node:http';
import { Registry, Gauge } from 'prom-client';
import type { StatusReply, RoutesReply } from './types.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

export interface MetricsSource {
  status(): StatusReply;
  routeCounts(): { ipv4: number; ipv6: number; installed: number; pending: number; error: number };
}

export function createMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  const peerUp = new Gauge({ name: 'tern_bgp_peer_up', help: '1 when the BGP session is Established', labelNames: ['peer', 'type', 'family'], registers: [registry] });
  const received = new Gauge({ name: 'tern_bgp_peer_routes_received', help: 'Routes held from the peer', labelNames: ['peer'], registers: [registry] });
  const advertised = new Gauge({ name: 'tern_bgp_peer_routes_advertised', help: 'Routes advertised to the peer', labelNames: ['peer'], registers: [registry] });
  const prefixes = new Gauge({ name: 'tern_rib_prefixes', help: 'Prefixes in the Loc-RIB', labelNames: ['family'], registers: [registry] });
  const fib = new Gauge({ name: 'tern_fib_routes', help: 'Best routes by kernel state', labelNames: ['state'], registers: [registry] });
  const errors = new Gauge({ name: 'tern_errors', help: 'Current daemon errors (config, kernel)', registers: [registry] });
  // Filled at scrape time.
  const collect = (): void => {
    const st = source.status();
    peerUp.reset(); received.reset(); advertised.reset();
    for (const p of st.peers) {
      peerUp.set({ peer: p.address, type: p.type, family: p.family }, p.bgpState === 'Established' ? 1 : 0);
      received.set({ peer: p.address }, p.received);
      advertised.set({ peer: p.address }, p.advertised);
    }
    const c = source.routeCounts();
    prefixes.set({ family: 'ipv4' }, c.ipv4);
    prefixes.set({ family: 'ipv6' }, c.ipv6);
    fib.set({ state: 'installed' }, c.installed);
    fib.set({ state: 'pending' }, c.pending);
    fib.set({ state: 'error' }, c.error);
    errors.set(st.daemon.errors.length);
  };
  (registry as Registry & { ternCollect?: () => void }).ternCollect = collect;
  return registry;
}

export async function renderMetrics(registry: Registry): Promise<string> {
  (registry as Registry & { ternCollect?: () => void }).ternCollect?.();
  return registry.metrics();
}

export function routeCountsOf(routes: RoutesReply): { ipv4: number; ipv6: number; installed: number; pending: number; error: number } {
  const out = { ipv4: 0, ipv6: 0, installed: 0, pending: 0, error: 0 };
  for (const r of routes.routes) {
    if (!r.best) continue;
    out[r.family]++;
    if (r.fib === 'installed' || r.fib === 'pending' || r.fib === 'error') out[r.fib]++;
  }
  return out;
}

/** Serves /metrics on HOST:PORT; returns a close function. */
export async function serveMetrics(listen: string, registry: Registry, log: Logger): Promise<() => Promise<void>> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--metrics-listen must be HOST:PORT (got "${listen}")`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    renderMetrics(registry).then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err) => { log.warn('metrics failed', { error: errorMessage(err) }); res.writeHead(500).end(); },
    );
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(Number(m[2]), host, () => resolve()); });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
