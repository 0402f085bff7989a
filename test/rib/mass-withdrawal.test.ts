// A source with many routes goes down: the Adj-RIB-Out withdraws each prefix exactly once,
// in UPDATEs no larger than the negotiated maximum (4096, or 65535 with RFC 8654), filled
// close to it; by path id under ADD-PATH; at the pace of a peer that does not read; and
// identically to every member of an update group. Everything written is decoded back.
import t, { type Test } from 'tap';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import type { LocRib } from '../../src/rib/loc-rib.js';
import type { UpdateMessage } from '../../src/bgp/wire/types.js';
import { makeRib, addPeer, attrs, announce } from './fixtures/helpers.js';
import { CTX } from './fixtures/export-ctx.js';
import { FakeSink, announced, withdrawn, isEor, splitMessages } from './fixtures/sink.js';

const SOURCE = '10.0.0.2|179';

function ebgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { key: `192.0.2.${n}|179`, family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}

/**
 * `n` distinct prefixes of the 10.244.0.0/16 pool, of mixed lengths (/32, /28, /26, /24, /20:
 * 1 to 4 octets on the wire), none in or around the node's own block 10.244.1.0/26 (not exported).
 */
function poolPrefixes(n: number): string[] {
  const out: string[] = [];
  const push = (p: string): void => { if (out.length < n && !p.startsWith('10.244.0.') && !p.startsWith('10.244.1.') && p !== '10.244.0.0/20') out.push(p); };
  for (let i = 0; i < 1024; i++) push(`10.244.${i >> 2}.${(i & 3) * 64}/26`);
  for (let i = 0; i < 256; i++) push(`10.244.${i}.0/24`);
  for (let i = 0; i < 16; i++) push(`10.244.${i * 16}.0/20`);
  for (let i = 0; i < 4096; i++) push(`10.244.${i >> 4}.${(i & 15) * 16}/28`);
  for (let i = 0; i < 65536; i++) push(`10.244.${i >> 8}.${i & 255}/32`);
  return out;
}

/** `n` distinct prefixes of the fd00:1::/48 pool, of mixed lengths, in canonical text, none around the own block fd00:1::40/122. */
function pool6Prefixes(n: number): string[] {
  const out: string[] = [];
  for (let k = 1; out.length < n; k++) {
    const g = k.toString(16);
    out.push(`fd00:1:0:${g}::1/128`, `fd00:1:0:${g}::40/122`, `fd00:1:0:${g}::/64`, k < 256 ? `fd00:1:0:${(k * 256).toString(16)}::/56` : `fd00:1:0:${g}::100/120`);
  }
  return [...new Set(out)].slice(0, n);
}

function loaded(prefixes: readonly string[], extraSources = 0): LocRib {
  const rib = makeRib({ clusterId: '244.0.0.1' });
  addPeer(rib, 2, { rrClient: true });
  for (let s = 0; s < extraSources; s++) addPeer(rib, 3 + s, { rrClient: true });
  for (const p of prefixes) {
    const v6 = p.includes(':');
    for (let s = 0; s <= extraSources; s++) {
      const hop = v6 ? `fd00::${2 + s}` : `10.0.0.${2 + s}`;
      const a = attrs({ nextHop: hop });
      announce(rib, `10.0.0.${2 + s}|179`, p, a);
    }
  }
  rib.flush();
  return rib;
}

/** Every message written, raw (for sizes) and decoded. */
function take(sink: FakeSink, opts: Parameters<FakeSink['take']>[0]): { sizes: number[]; msgs: UpdateMessage[] } {
  const sizes = sink.written.flatMap((b) => splitMessages(b)).map((b) => b.length);
  return { sizes, msgs: sink.take(opts) };
}

function exactlyOnce(t: Test, got: string[], want: readonly string[], what: string): void {
  t.equal(got.length, want.length, `${what}: as many as expected`);
  t.equal(new Set(got).size, got.length, `${what}: none twice`);
  t.same([...got].sort(), [...want].sort(), `${what}: exactly the set`);
}

for (const [family, extendedMessage] of [['ipv4', false], ['ipv4', true], ['ipv6', false], ['ipv6', true]] as const) {
  const max = extendedMessage ? 65535 : 4096;
  t.test(`${family}, ${max}-octet messages: a full table withdrawn exactly once, in full messages`, async (t) => {
    const prefixes = family === 'ipv4' ? poolPrefixes(30_000) : pool6Prefixes(12_000);
    const rib = loaded(prefixes);
    const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1' });
    const sink = new FakeSink();
    const peer = family === 'ipv4' ? ebgp(9, { extendedMessage }) : ebgp(9, { extendedMessage, key: '2001:db8::9|179', family: 'ipv6', localAddress: 'fd00::1' });
    out.addPeer(peer, sink);
    const opts = { fourOctetAs: true, extendedMessage };
    const initial = take(sink, opts);
    exactlyOnce(t, announced(initial.msgs), prefixes, 'announced');
    rib.removeSource(SOURCE);
    rib.flush();
    const { sizes, msgs } = take(sink, opts);
    exactlyOnce(t, withdrawn(msgs), prefixes, 'withdrawn');
    t.same(announced(msgs), [], 'nothing announced');
    t.ok(sizes.every((s) => s <= max), `every UPDATE at most ${max} octets (largest ${Math.max(...sizes)})`);
    t.ok(sizes.filter((s) => s < max - 17).length <= Math.ceil(prefixes.length / 4096) + 1, 'all but the last of each batch filled to within a prefix of the maximum');
    t.equal(out.get(peer.key)!.size, 0, 'nothing left advertised');
  });
}

for (const extendedMessage of [false, true]) {
  t.test(`ADD-PATH, ${extendedMessage ? 65535 : 4096}-octet messages: withdrawn by path id, one source then the other`, async (t) => {
    const prefixes = poolPrefixes(12_000);
    const rib = loaded(prefixes, 1); // 10.0.0.2 and 10.0.0.3 each hold every prefix: two paths each
    const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1' });
    const sink = new FakeSink();
    const peer: OutPeer = { ...ebgp(14), key: '10.0.0.14|179', ebgp: false, peerAs: 64512, routeReflectorClient: true, addPath: true, extendedMessage };
    out.addPeer(peer, sink);
    const opts = { fourOctetAs: true, extendedMessage, addPath: new Set(['ipv4' as const]) };
    const initial = take(sink, opts).msgs.filter((m) => !isEor(m));
    const idsBy = new Map<string, string[]>(); // next hop → "prefix#id" sent with it
    for (const m of initial) for (const n of m.nlri) idsBy.set(m.attributes.nextHop!, [...(idsBy.get(m.attributes.nextHop!) ?? []), `${n.prefix}#${n.pathId}`]);
    t.equal(idsBy.get('10.0.0.2')?.length, prefixes.length, 'every prefix with the path of 10.0.0.2');
    t.equal(idsBy.get('10.0.0.3')?.length, prefixes.length, 'and with the path of 10.0.0.3');

    rib.removeSource(SOURCE);
    rib.flush();
    let got = take(sink, opts);
    exactlyOnce(t, withdrawn(got.msgs), idsBy.get('10.0.0.2')!, 'first source: its path ids');
    t.same(announced(got.msgs), [], 'the staying paths are not re-sent');
    t.ok(got.sizes.every((s) => s <= (extendedMessage ? 65535 : 4096)));

    rib.removeSource('10.0.0.3|179');
    rib.flush();
    got = take(sink, opts);
    exactlyOnce(t, withdrawn(got.msgs), idsBy.get('10.0.0.3')!, 'second source: its path ids');
    t.ok(got.sizes.every((s) => s <= (extendedMessage ? 65535 : 4096)));
    t.equal(out.get(peer.key)!.size, 0);
  });
}

t.test('a peer that does not read: one batch per drain, each prefix withdrawn once, changes while blocked coalesced', async (t) => {
  const prefixes = poolPrefixes(20_000);
  const rib = loaded(prefixes);
  const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1' }, { batchSize: 1000 });
  const sink = new FakeSink();
  out.addPeer(ebgp(9), sink);
  sink.take();
  sink.drain(1); // full after its next write
  rib.removeSource(SOURCE);
  rib.flush();
  t.equal(sink.written.length, 1, 'one write, then it waits for the drain');
  // while blocked: some prefixes come back and go again, some come back and stay
  addPeer(rib, 7, { rrClient: true });
  for (const p of prefixes.slice(0, 500)) announce(rib, '10.0.0.7|179', p, attrs({ nextHop: '10.0.0.7' }));
  rib.flush();
  rib.removeSource('10.0.0.7|179');
  rib.flush();
  for (const p of prefixes.slice(500, 600)) announce(rib, '10.0.0.7|179', p, attrs({ nextHop: '10.0.0.7' }));
  rib.flush();
  let writes = 1;
  for (let i = 0; i < 100 && !out.get('192.0.2.9|179')!.idle; i++) { sink.drain(1); writes++; }
  t.ok(out.get('192.0.2.9|179')!.idle, 'drained');
  t.ok(writes >= 20, `paced by the drains (${writes} writes)`);
  const msgs = sink.take();
  exactlyOnce(t, withdrawn(msgs), prefixes, 'withdrawn');
  t.same(announced(msgs).sort(), prefixes.slice(500, 600).sort(), 'only what came back and stayed is announced, once');
});

t.test('an update group: every member gets exactly the withdrawn set', async (t) => {
  const prefixes = poolPrefixes(10_000);
  const rib = loaded(prefixes);
  const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1' });
  const a = new FakeSink();
  const b = new FakeSink();
  const ra = out.addPeer(ebgp(9), a);
  const rb = out.addPeer(ebgp(10), b);
  t.equal(ra.group, rb.group, 'one group');
  a.take();
  b.take();
  rib.removeSource(SOURCE);
  rib.flush();
  exactlyOnce(t, withdrawn(a.take()), prefixes, 'first member');
  exactlyOnce(t, withdrawn(b.take()), prefixes, 'second member');
});
