// Prometheus metrics are read from the daemon's live counters at scrape time.
import t from 'tap';
import { createMetrics } from '../../src/api/metrics.js';
import type { PeerStatusJson } from '../../src/api/types.js';

function peer(address: string, bgpState: string, received: number, advertised: number): PeerStatusJson {
  return { address, type: 'node-to-node mesh', state: 'up', bgpState, since: '', info: bgpState, asn: 64512, received, advertised, name: '', port: 179, family: 'ipv4', localAs: 64512 };
}

t.test('values follow the source at every scrape', async (t) => {
  let peers = [peer('10.0.0.12', 'Established', 3, 5), peer('10.0.0.13', 'Active', 0, 0)];
  let fib: { installed: number; failed: number } | null = { installed: 7, failed: 1 };
  let stalls = 0;
  const registry = createMetrics({ peers: () => peers, prefixes: () => ({ ipv4: 9, ipv6: 2 }), fib: () => fib, errors: () => 1, datastoreWatchStalls: () => stalls });
  const text = await registry.metrics();
  t.match(text, /^tern_bgp_peer_up\{peer="10\.0\.0\.12",type="node-to-node mesh",family="ipv4"\} 1$/m);
  t.match(text, /^tern_bgp_peer_up\{peer="10\.0\.0\.13",type="node-to-node mesh",family="ipv4"\} 0$/m);
  t.match(text, /^tern_bgp_peer_routes_received\{peer="10\.0\.0\.12"\} 3$/m);
  t.match(text, /^tern_bgp_peer_routes_advertised\{peer="10\.0\.0\.12"\} 5$/m);
  t.match(text, /^tern_rib_prefixes\{family="ipv4"\} 9$/m);
  t.match(text, /^tern_rib_prefixes\{family="ipv6"\} 2$/m);
  t.match(text, /^tern_fib_routes_installed 7$/m);
  t.match(text, /^tern_fib_requests_failed 1$/m);
  t.match(text, /^tern_errors 1$/m);
  t.match(text, /^tern_datastore_watch_stalls 0$/m);
  t.match(text, /^process_resident_memory_bytes \d+$/m, 'standard process metrics');
  t.match(text, /^nodejs_heap_space_size_used_bytes\{space="old"\} \d+$/m, 'V8 heap spaces');
  // A peer removed from the configuration disappears from the next scrape; --no-fib reads 0.
  peers = [peers[0]!];
  fib = null;
  stalls = 2;
  const again = await registry.metrics();
  t.match(again, /^tern_datastore_watch_stalls 2$/m);
  t.notMatch(again, /10\.0\.0\.13/);
  t.match(again, /^tern_fib_routes_installed 0$/m);
});
