// A route whose attributes do not fit one UPDATE for a peer (an eBGP route with 1010
// communities gains LOCAL_PREF toward iBGP): not sent there, withdrawn if it was, counted
// and logged once per prefix and peer; everything else still flows. And an error inside one
// peer's Adj-RIB-Out ends that peer only.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import { createLogger } from '../../src/util/log.js';
import { makeRib, addPeer, attrs, seq, announce } from './fixtures/helpers.js';
import { CTX } from './fixtures/export-ctx.js';
import { FakeSink, announced, withdrawn, isEor } from './fixtures/sink.js';

function ibgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { key: `10.0.0.${n}|179`, family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}

function captureLogger() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (b: Buffer) => { for (const l of b.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); });
  return { log: createLogger({ json: true, level: 'debug', stream }), lines };
}

const settle = () => new Promise((r) => setImmediate(r));
const HUGE = Array.from({ length: 1010 }, (_, i) => (65000 * 65536 + i) >>> 0);

t.test('1010 communities from eBGP: fits the eBGP UPDATE, not the iBGP one with LOCAL_PREF', async (t) => {
  const rib = makeRib();
  addPeer(rib, 7, { ebgp: true, asn: 65007 });
  const src = '10.0.0.7|179';
  announce(rib, src, '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), communities: [1] }));
  announce(rib, src, '10.244.8.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007) }));
  rib.flush();
  const { log, lines } = captureLogger();
  const out = new AdjRibOutManager(rib, CTX, { log });
  const sink = new FakeSink();
  out.addPeer(ibgp(2), sink);
  let msgs = sink.take();
  t.same(announced(msgs).sort(), ['10.244.8.0/24', '10.244.9.0/24'], 'both routes sent while small');
  t.ok(isEor(msgs.at(-1)!));

  // The same prefix now carries 1010 communities: it must be withdrawn from the iBGP peer.
  announce(rib, src, '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), communities: HUGE }));
  announce(rib, src, '10.244.10.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), communities: HUGE }));
  t.doesNotThrow(() => rib.flush());
  msgs = sink.take();
  t.same(withdrawn(msgs), ['10.244.9.0/24'], 'sent before: withdrawn');
  t.same(announced(msgs), [], 'the too-long routes are not announced');
  const member = out.get('10.0.0.2|179')!;
  t.equal(member.stats.tooLong, 2, 'counted once per prefix');
  t.equal(member.size, 1, 'only the normal route is advertised');

  // Re-evaluated (context change, refresh): no second log line for the same prefix.
  out.setContext({ ...CTX });
  rib.flush();
  sink.take();
  await settle();
  const warned = lines.filter((l) => l.event === 'attributesTooLong');
  t.equal(warned.length, 2, 'logged once per prefix and peer');
  t.equal(member.stats.tooLong, 2);
  t.same(warned.map((l) => l.prefix).sort(), ['10.244.10.0/24', '10.244.9.0/24']);

  // Back to a normal size: announced again.
  announce(rib, src, '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), communities: [2] }));
  rib.flush();
  t.same(announced(sink.take()), ['10.244.9.0/24']);
});

t.test('a second iBGP peer in the same group is also spared, and an ADD-PATH peer too', async (t) => {
  const rib = makeRib();
  addPeer(rib, 7, { ebgp: true, asn: 65007 });
  announce(rib, '10.0.0.7|179', '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), communities: HUGE }));
  announce(rib, '10.0.0.7|179', '10.244.8.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007) }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const a = new FakeSink();
  const b = new FakeSink();
  const c = new FakeSink();
  out.addPeer(ibgp(2), a);
  out.addPeer(ibgp(3), b);
  out.addPeer(ibgp(4, { addPath: true }), c);
  t.same(announced(a.take()), ['10.244.8.0/24']);
  t.same(announced(b.take()), ['10.244.8.0/24']);
  t.same(announced(c.take({ fourOctetAs: true, addPath: new Set(['ipv4']) })).map((p) => p.replace(/#\d+$/, '')), ['10.244.8.0/24']);
});

t.test('an error while serving one peer closes that peer only and reports it', async (t) => {
  const rib = makeRib();
  addPeer(rib, 7, { ebgp: true, asn: 65007 });
  announce(rib, '10.0.0.7|179', '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007) }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const good = new FakeSink();
  const failures: unknown[] = [];
  let explode = false;
  const bad = Object.assign(new FakeSink(), {
    fail: (err: unknown) => failures.push(err),
  });
  const origWrite = bad.write.bind(bad);
  bad.write = (buf: Buffer) => {
    if (explode) throw new Error('boom');
    return origWrite(buf);
  };
  out.addPeer(ibgp(2), good);
  out.addPeer(ibgp(3), bad);
  good.take();
  bad.take();
  explode = true;
  announce(rib, '10.0.0.7|179', '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), med: 5 }));
  t.doesNotThrow(() => rib.flush());
  t.equal(failures.length, 1, 'the failing peer is reported');
  t.equal(out.get('10.0.0.3|179'), undefined, 'its Adj-RIB-Out is gone');
  t.same(announced(good.take()), ['10.244.9.0/24'], 'the other peer got the change');
});

t.test('a route held back as too long, then withdrawn in a small flush and in a large one: counted again when it comes back too long', async (t) => {
  for (const others of [0, 400]) { // 400 more withdrawals in the same flush: past LOOKUP_AT_ONCE_MAX
    const rib = makeRib();
    addPeer(rib, 7, { ebgp: true, asn: 65007 });
    const src = '10.0.0.7|179';
    const big = () => announce(rib, src, '10.244.9.0/24', attrs({ nextHop: '10.0.0.7', asPath: seq(65007), communities: HUGE }));
    big();
    for (let i = 0; i < others; i++) announce(rib, src, `10.244.${128 + (i >> 2)}.${(i & 3) * 64}/26`, attrs({ nextHop: '10.0.0.7', asPath: seq(65007) }));
    rib.flush();
    const out = new AdjRibOutManager(rib, CTX);
    const sink = new FakeSink();
    const member = out.addPeer(ibgp(2), sink);
    const first = announced(sink.take());
    t.equal(first.length, others, `${others}: the normal routes only (${first.length})`);
    t.equal(member.stats.tooLong, 1, `${others}: held back once`);
    rib.withdraw(src, '10.244.9.0/24');
    for (let i = 0; i < others; i++) rib.withdraw(src, `10.244.${128 + (i >> 2)}.${(i & 3) * 64}/26`);
    rib.flush();
    t.equal(withdrawn(sink.take()).length, others, `${others}: only what was sent is withdrawn`);
    big();
    rib.flush();
    t.equal(member.stats.tooLong, 2, `${others}: too long again after the withdrawal: counted again`);
    t.equal(member.size, 0);
  }
});
