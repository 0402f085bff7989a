// Adj-RIB-Out: packing, End-of-RIB, coalescing under backpressure, ADD-PATH, update groups,
// route refresh, context changes. Byte-level: everything written is decoded back.
import t from 'tap';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import { makeRib, addPeer, attrs, seq, announce } from './fixtures/helpers.js';
import { CTX } from './fixtures/export-ctx.js';
import { FakeSink, announced, withdrawn, isEor } from './fixtures/sink.js';

function ibgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { key: `10.0.0.${n}|179`, family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}

function ebgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { ...ibgp(n), key: `192.0.2.${n}|179`, ebgp: true, peerAs: 65100, ...extra };
}

/** The i-th /26 inside the 10.244.0.0/16 pool. */
function block(i: number): string {
  return `10.244.${i >> 2}.${(i & 3) * 64}/26`;
}

t.test('1000 routes with one attribute set: few UPDATEs, then End-of-RIB', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  for (let i = 0; i < 1000; i++) announce(rib, '10.0.0.2|179', block(i), attrs({ nextHop: '10.0.0.2', localPref: 100 }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  out.addPeer(ebgp(9), sink);
  const msgs = sink.take();
  t.equal(msgs.length, 3, '2 UPDATEs (5000 octets of NLRI at 4096 per message) + End-of-RIB');
  t.ok(isEor(msgs[2]!));
  t.equal(announced(msgs).length, 1000);
  t.same(new Set(announced(msgs)).size, 1000);
  t.same(msgs[0]!.attributes, { origin: 0, asPath: seq(64512), nextHop: '10.0.0.1' });
  t.equal(out.get('192.0.2.9|179')!.size, 1000);
});

t.test('withdrawal, and a prefix flapping 5 times while blocked is sent once, latest state', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  announce(rib, '10.0.0.2|179', block(0), attrs({ nextHop: '10.0.0.2' }));
  announce(rib, '10.0.0.2|179', block(1), attrs({ nextHop: '10.0.0.2' }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink(1); // full after every write
  out.addPeer(ebgp(9), sink);
  t.equal(sink.written.length, 1, 'stopped at the first false');
  sink.drain(1);
  sink.drain(1);
  t.ok(isEor(sink.take().at(-1)!), 'table then End-of-RIB');
  sink.drain(1); // idle, nothing written
  t.equal(sink.written.length, 0);

  announce(rib, '10.0.0.2|179', block(0), attrs({ nextHop: '10.0.0.2', med: 1 }));
  rib.flush(); // written at once (room 1) → now blocked
  t.equal(sink.written.length, 1);
  for (let med = 2; med <= 6; med++) {
    announce(rib, '10.0.0.2|179', block(0), attrs({ nextHop: '10.0.0.2', med }));
    rib.flush();
  }
  rib.withdraw('10.0.0.2|179', block(1));
  rib.flush();
  t.equal(sink.written.length, 1, 'nothing more while blocked');
  sink.drain();
  const msgs = sink.take();
  t.same(withdrawn(msgs), [block(1)]);
  t.same(announced(msgs), [block(0), block(0)], 'med 1 (before blocking), then only the latest');
  t.same(msgs.filter((m) => m.nlri.length > 0).map((m) => m.attributes.med), [1, 6]);
});

t.test('ADD-PATH: every multipath member with a stable path id; withdraw by id', async (t) => {
  const rib = makeRib({ clusterId: '244.0.0.1' });
  addPeer(rib, 11, { rrClient: true }); addPeer(rib, 12, { rrClient: true }); addPeer(rib, 13, { rrClient: true });
  for (const n of [11, 12, 13]) announce(rib, `10.0.0.${n}|179`, block(5), attrs({ nextHop: `10.0.0.${n}` }));
  rib.flush();
  const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '244.0.0.1' });
  const sink = new FakeSink();
  out.addPeer(ibgp(14, { routeReflectorClient: true, addPath: true }), sink);
  const opts = { fourOctetAs: true, addPath: new Set(['ipv4' as const]) };
  const msgs = sink.take(opts);
  const ids = announced(msgs).map((s) => Number(s.split('#')[1]));
  t.equal(ids.length, 3);
  t.equal(new Set(ids).size, 3, 'distinct path ids');
  t.same(msgs.filter((m) => m.nlri.length).map((m) => m.attributes.nextHop).sort(), ['10.0.0.11', '10.0.0.12', '10.0.0.13'], 'next hops unchanged on reflection');
  t.ok(msgs.every((m) => m.nlri.length === 0 || m.attributes.clusterList?.[0] === '244.0.0.1'));

  const plain = new FakeSink();
  out.addPeer(ibgp(15, { routeReflectorClient: true }), plain);
  t.equal(announced(plain.take()).length, 1, 'without ADD-PATH: the best path only');

  rib.removeSource('10.0.0.12|179');
  rib.flush();
  const idOf12 = ids[msgs.filter((m) => m.nlri.length).findIndex((m) => m.attributes.nextHop === '10.0.0.12')];
  const after = sink.take(opts);
  t.same(withdrawn(after), [`${block(5)}#${idOf12}`]);
  t.same(announced(after), [], 'the other paths are not re-sent');

  // the prefix gone altogether (a route event: looked up as it arrives): every id still sent, once
  rib.removeSource('10.0.0.11|179');
  rib.removeSource('10.0.0.13|179');
  rib.flush();
  t.equal(rib.lookup(block(5)), undefined);
  t.same(withdrawn(sink.take(opts)).sort(), ids.filter((id) => id !== idOf12).map((id) => `${block(5)}#${id}`).sort(), 'the two ids left, each withdrawn once');
  t.same(withdrawn(plain.take()), [block(5)], 'the member without ADD-PATH: the prefix, once');
  t.equal(out.get('10.0.0.14|179')!.size, 0);
});

t.test('never back to the source; iBGP split horizon withdraws when the best moves', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2); addPeer(rib, 1, { address: '192.0.2.1', asn: 65100 });
  announce(rib, '192.0.2.1|179', block(7), attrs({ asPath: seq(65100), nextHop: '192.0.2.1' }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const toSource = new FakeSink();
  const toMesh = new FakeSink();
  out.addPeer(ebgp(1), toSource);
  out.addPeer(ibgp(2), toMesh);
  t.same(announced(toSource.take()), []);
  t.same(announced(toMesh.take()), [block(7)]);
  announce(rib, '10.0.0.2|179', block(7), attrs({ nextHop: '10.0.0.2', localPref: 200 }));
  rib.flush();
  t.same(withdrawn(toMesh.take()), [block(7)], 'best now from the mesh peer itself');
  t.same(announced(toSource.take()), [block(7)], 'and the eBGP peer now gets the iBGP path');
});

t.test('update groups: equal peers share a group and the encoded attribute bytes', async (t) => {
  const rib = makeRib();
  rib.setLocal(block(1), {});
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const a = new FakeSink();
  const b = new FakeSink();
  const c = new FakeSink();
  const ra = out.addPeer(ibgp(3), a);
  const rb = out.addPeer(ibgp(4), b);
  const rc = out.addPeer(ibgp(5, { fourOctetAs: false }), c);
  t.equal(ra.group, rb.group);
  t.not(ra.group, rc.group);
  t.equal(out.groupMembers().size, 2);
  const sa = ra.advertisedFor(block(1)).get(0)!;
  t.equal(sa, rb.advertisedFor(block(1)).get(0), 'one AttrSet for both');
  t.equal(sa, rc.advertisedFor(block(1)).get(0), 'the 2-octet group interns the same attributes');
  t.equal(sa.encoded({ fourOctetAs: true }), sa.encoded({ fourOctetAs: true }));
  t.same(a.written, b.written);
  out.removePeer('10.0.0.5|179');
  t.equal(out.groupMembers().size, 1);
});

t.test('route refresh re-sends everything; context change withdraws what is no longer exported', async (t) => {
  const rib = makeRib();
  for (let i = 0; i < 10; i++) rib.setLocal(block(i), {});
  rib.setLocal('172.16.0.0/24', {});
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  out.addPeer(ibgp(3), sink);
  t.equal(announced(sink.take()).length, 10, 'outside-pool route not sent');
  out.routeRefresh('10.0.0.3|179');
  const again = sink.take();
  t.equal(announced(again).length, 10);
  t.notOk(again.some(isEor), 'no End-of-RIB after a plain refresh');
  out.setContext({ ...CTX, pools: CTX.pools.map((p) => (p.cidr === '10.244.0.0/16' ? { ...p, disableBGPExport: true } : p)) });
  t.equal(withdrawn(sink.take()).length, 10);
  out.close();
  t.equal(rib.attrSets.size, 1, 'only the Loc-RIB\'s local set remains');
});

t.test('own block gained or lost: only the routes inside it are re-evaluated', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2);
  announce(rib, '10.0.0.2|179', '10.244.0.7/32', attrs({ nextHop: '10.0.0.2' })); // a borrowed /32 inside block(0)
  announce(rib, '10.0.0.2|179', block(5), attrs({ nextHop: '10.0.0.2' }));
  rib.flush();
  const ctx = { ...CTX, ownBlocks: [block(0)] };
  const out = new AdjRibOutManager(rib, ctx);
  const sink = new FakeSink();
  out.addPeer(ebgp(9), sink);
  t.same(announced(sink.take()).sort(), [block(5)], 'the /32 inside our own block is not exported (calico_aggr)');
  out.setContext({ ...ctx, ownBlocks: [] });
  t.same(announced(sink.take()), ['10.244.0.7/32'], 'block gone: the /32 is exported, nothing else is sent again');
  out.setContext({ ...ctx, ownBlocks: [block(1)] });
  t.same(sink.take().length, 0, 'a block with nothing inside it changes nothing on the wire');
  out.setContext({ ...ctx, ownBlocks: [block(0), block(1)] });
  t.same(withdrawn(sink.take()), ['10.244.0.7/32'], 'block back: the /32 is withdrawn');
  out.close();
});

t.test('empty table: just End-of-RIB; IPv6 through MP_REACH', async (t) => {
  const rib = makeRib();
  const out = new AdjRibOutManager(rib, CTX);
  const s4 = new FakeSink();
  out.addPeer(ibgp(3), s4);
  const m = s4.take();
  t.equal(m.length, 1);
  t.ok(isEor(m[0]!));
  rib.setLocal('fd00:1::40/122', {});
  rib.flush();
  const s6 = new FakeSink();
  out.addPeer({ ...ibgp(3), key: 'fd00::3|179', family: 'ipv6', localAddress: 'fd00::1' }, s6);
  const m6 = s6.take();
  t.same(m6[0]!.attributes.mpReach, { afi: 2, safi: 1, nextHops: ['fd00::1'], nlri: [{ prefix: 'fd00:1::40/122' }] });
  t.equal(m6[0]!.attributes.localPref, 2147483647 - 1024, 'an own block: LOCAL_PREF of the normal route priority (calico-node v3.32)');
  t.ok(isEor(m6[1]!));
});

t.test('one group, one member blocked: the other keeps up, the blocked one gets the latest state', async (t) => {
  const rib = makeRib();
  for (let i = 0; i < 4; i++) rib.setLocal(block(i), {});
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX, { batchSize: 2 });
  const fast = new FakeSink();
  const slow = new FakeSink(1);
  const rf = out.addPeer(ibgp(3), fast);
  const rs = out.addPeer(ibgp(4), slow);
  t.equal(rf.group, rs.group);
  t.equal(announced(fast.take()).length, 4);
  t.equal(slow.written.length, 1, 'slow peer blocked after its first UPDATE');
  t.ok(rf.group.cachedPrefixes > 0, 'results cached while a member catches up');
  rib.setLocal(block(9), {});
  rib.setLocal(block(0), null);
  rib.flush();
  rib.setLocal(block(9), { med: 3 });
  rib.flush();
  const f = fast.take();
  t.same(withdrawn(f), [block(0)]);
  t.same(f.filter((m) => m.nlri.length).map((m) => [m.nlri[0]!.prefix, m.attributes.med ?? null]), [[block(9), null], [block(9), 3]]);
  slow.drain();
  const s = slow.take();
  t.same([...announced(s)].sort(), [block(0), block(1), block(2), block(3), block(9)].sort(), 'block 0 went out in the first UPDATE, before blocking');
  t.same(withdrawn(s), [block(0)]);
  t.equal(s.find((m) => m.nlri.some((n) => n.prefix === block(9)))!.attributes.med, 3, 'only the latest state of block 9');
  t.ok(isEor(s.at(-1)!));
  t.equal(rf.group.cachedPrefixes, 0, 'cache dropped once every member is idle');
});

t.test('route refresh for another family is ignored', async (t) => {
  const rib = makeRib();
  rib.setLocal(block(1), {});
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  out.addPeer(ibgp(3), sink);
  sink.take();
  out.routeRefresh('10.0.0.3|179', 'ipv6');
  t.equal(sink.written.length, 0);
  out.routeRefresh('10.0.0.3|179', 'ipv4');
  t.same(announced(sink.take()), [block(1)]);
});

t.test('reflector: a group batch is joined once; members get the same bytes, or slices without their own route', async (t) => {
  const rib = makeRib({ clusterId: '1.0.0.1' });
  const n = 6;
  for (let i = 1; i <= n; i++) addPeer(rib, 10 + i, { rrClient: true });
  const out = new AdjRibOutManager(rib, { ...CTX, clusterId: '1.0.0.1' });
  const sinks: FakeSink[] = [];
  for (let i = 1; i <= n; i++) {
    const s = new FakeSink();
    sinks.push(s);
    out.addPeer(ibgp(10 + i, { routeReflectorClient: true }), s);
  }
  for (const s of sinks) s.take(); // End-of-RIB
  // every client announces its own block, next hop itself: one UPDATE per route
  for (let i = 1; i <= n; i++) announce(rib, `10.0.0.${10 + i}|179`, block(20 + i), attrs({ nextHop: `10.0.0.${10 + i}`, localPref: 100 }));
  rib.flush();
  for (let i = 1; i <= n; i++) {
    const got = sinks[i - 1]!;
    const bufs = got.written.slice();
    t.same(announced(got.take()).sort(), Array.from({ length: n }, (_, k) => block(21 + k)).filter((b) => b !== block(20 + i)).sort(), `client ${i}: every block but its own`);
    t.ok(bufs.length <= 2, `client ${i}: its batch in ${bufs.length} write(s)`);
  }
  // the same bytes in memory: every member's writes are views of one Buffer
  const first = sinks[0]!;
  t.equal(first.written.length, 0);
  announce(rib, '10.0.0.11|179', block(40), attrs({ nextHop: '10.0.0.11', localPref: 100 }));
  announce(rib, '10.0.0.12|179', block(41), attrs({ nextHop: '10.0.0.12', localPref: 100 }));
  rib.flush();
  const writes = sinks.slice(2).flatMap((s) => s.written);
  t.equal(writes.length, 4, 'one write each for members 3–6');
  t.ok(writes.every((b) => b.buffer === writes[0]!.buffer && b.byteOffset === writes[0]!.byteOffset && b.length === writes[0]!.length),
    'members 3–6 were handed the same bytes in memory');
  t.same(announced(sinks[0]!.take()), [block(41)], 'client 1 does not get its own route back');
  t.same(announced(sinks[1]!.take()), [block(40)]);
  for (const s of sinks.slice(2)) t.same(announced(s.take()).sort(), [block(40), block(41)].sort());
});

t.test('full iBGP mesh: routes learned from the mesh cost no export decision, on change or on a new peer\'s walk', async (t) => {
  const rib = makeRib();
  for (let n = 2; n <= 5; n++) addPeer(rib, n);
  rib.setLocal(block(4), {}); // our own block (10.244.1.0/26)
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sinks = [2, 3, 4].map(() => new FakeSink());
  const outs = [2, 3, 4].map((n, i) => out.addPeer(ibgp(n), sinks[i]!));
  const group = outs[0]!.group;
  t.equal(outs[2]!.group, group);
  for (const s of sinks) {
    const m = s.take();
    t.same(announced(m), [block(4)], 'the own block, then End-of-RIB');
    t.ok(isEor(m.at(-1)!));
  }
  const before = group.decisions;
  for (let n = 2; n <= 5; n++) for (let i = 0; i < 3; i++) announce(rib, `10.0.0.${n}|179`, block(8 + 3 * n + i), attrs({ nextHop: `10.0.0.${n}`, localPref: 100 }));
  rib.flush();
  t.equal(group.decisions, before, 'twelve mesh routes, three members: no decision');
  for (const s of sinks) t.equal(s.written.length, 0, 'nothing written');
  t.ok(outs.every((o) => o.idle));
  // the mesh withdraws three of them: no member was sent them, so none takes them
  const taken = outs.map((o) => o.stats.taken);
  for (let i = 0; i < 3; i++) rib.withdraw('10.0.0.2|179', block(14 + i));
  rib.flush();
  t.equal(rib.lookup(block(14)), undefined, 'gone from the Loc-RIB');
  t.same(outs.map((o) => o.stats.taken), taken, 'a withdrawal from the mesh: no member takes it');
  for (const s of sinks) t.equal(s.written.length, 0, 'nothing written');
  for (let i = 0; i < 3; i++) announce(rib, '10.0.0.2|179', block(14 + i), attrs({ nextHop: '10.0.0.2', localPref: 100 }));
  rib.flush();
  const late = new FakeSink();
  const ro = out.addPeer(ibgp(5), late);
  t.equal(ro.group, group);
  const m = late.take();
  t.same(announced(m), [block(4)], 'a new member: only what the group exports');
  t.ok(isEor(m.at(-1)!), 'then End-of-RIB');
  t.ok(group.decisions <= before + 1, 'its walk decided the own block at most');
  // a mesh path for the own block, then the local one goes: the best is now a mesh path,
  // withdrawn from every member that was sent the block
  announce(rib, '10.0.0.3|179', block(4), attrs({ nextHop: '10.0.0.3', localPref: 100 }));
  rib.flush();
  for (const s of [...sinks, late]) t.equal(s.written.length, 0, 'the local path stays best');
  rib.setLocal(block(4), null);
  rib.flush();
  t.equal(rib.lookup(block(4))?.best?.source.key, '10.0.0.3|179');
  for (const [i, s] of [...sinks, late].entries()) t.same(withdrawn(s.take()), [block(4)], `member ${i} withdraws the block it was sent`);
  rib.setLocal(block(4), {});
  rib.flush();
  for (const s of [...sinks, late]) t.same(announced(s.take()), [block(4)], 'and announces it again when the local path is best again');
});

t.test('full iBGP mesh, members joining one by one: the table and End-of-RIB in one write, the same bytes for every member', async (t) => {
  const own = [block(4), block(5), block(6)];
  const ctx = { ...CTX, ownBlocks: own };
  const rib = makeRib();
  for (let n = 2; n <= 7; n++) addPeer(rib, n);
  for (const b of own) rib.setLocal(b, {});
  for (let n = 2; n <= 7; n++) announce(rib, `10.0.0.${n}|179`, block(8 + n), attrs({ nextHop: `10.0.0.${n}`, localPref: 100 }));
  rib.flush();
  const out = new AdjRibOutManager(rib, ctx);
  const writes: Buffer[] = [];
  for (let n = 2; n <= 7; n++) {
    const sink = new FakeSink();
    const ro = out.addPeer(ibgp(n), sink);
    t.ok(ro.idle, `member ${n - 1}: done, the group idle again before the next one`);
    t.equal(sink.written.length, 1, `member ${n - 1}: the table and End-of-RIB in one write`);
    writes.push(sink.written[0]!);
    const m = sink.take();
    t.same(announced(m), own, `member ${n - 1}: the own blocks in one UPDATE`);
    t.equal(m.length, 2);
    t.ok(isEor(m[1]!), 'then End-of-RIB');
  }
  const [, second, ...rest] = writes;
  t.ok(rest.every((b) => b.buffer === second!.buffer && b.byteOffset === second!.byteOffset && b.length === second!.length),
    'from the second member on, every member was handed the same bytes in memory (packed and joined once)');
});

t.test('full iBGP mesh: a new member walks only the prefixes of the sources that may reach it; changes during the walk still reach it', async (t) => {
  const own = [block(4), block(5), block(6), block(7)];
  const ctx = { ...CTX, ownBlocks: own };
  const rib = makeRib();
  for (let n = 2; n <= 6; n++) addPeer(rib, n);
  for (const b of own.slice(0, 3)) rib.setLocal(b, {});
  for (let n = 2; n <= 6; n++) for (let i = 0; i < 3; i++) announce(rib, `10.0.0.${n}|179`, block(8 + 3 * n + i), attrs({ nextHop: `10.0.0.${n}`, localPref: 100 }));
  rib.flush();
  const out = new AdjRibOutManager(rib, ctx, { batchSize: 1 });
  const first = new FakeSink();
  const a = out.addPeer(ibgp(2), first);
  t.same(announced(first.take()).sort(), own.slice(0, 3).sort());
  t.equal(a.stats.walked, 3, 'the 3 own routes walked, not the 15 learned from the mesh');
  const sink = new FakeSink(1); // full after every write: the walk stops after each prefix
  const b = out.addPeer(ibgp(3), sink);
  t.equal(sink.written.length, 1, 'blocked after the first batch');
  rib.setLocal(own[3]!, {}); // a new own block while the walk runs
  rib.setLocal(own[1]!, null); // and one withdrawn
  rib.flush();
  for (let i = 0; i < 20 && !b.idle; i++) sink.drain(1);
  t.ok(b.idle, 'walk done, End-of-RIB sent');
  const msgs = sink.take();
  t.ok(isEor(msgs.at(-1)!));
  const sent = new Set<string>();
  for (const m of msgs) {
    for (const w of withdrawn([m])) sent.delete(w);
    for (const p of announced([m])) sent.add(p);
  }
  t.same([...sent].sort(), [own[0]!, own[2]!, own[3]!].sort(), 'what it holds is the table now');
  t.same([...out.get(b.key)!.advertisedFor(own[3]!).keys()], [0]);
  t.equal(b.size, 3);
  t.ok(b.stats.walked <= 4, `walked ${b.stats.walked} prefixes, none learned from the mesh`);
  const refl = makeRib({ clusterId: '1.0.0.1' });
  for (let n = 2; n <= 4; n++) addPeer(refl, n, { rrClient: true });
  for (let n = 2; n <= 4; n++) announce(refl, `10.0.0.${n}|179`, block(20 + n), attrs({ nextHop: `10.0.0.${n}`, localPref: 100 }));
  refl.flush();
  const ro = new AdjRibOutManager(refl, { ...CTX, clusterId: '1.0.0.1' });
  const rs = new FakeSink();
  const r = ro.addPeer(ibgp(5, { routeReflectorClient: true }), rs);
  t.same(announced(rs.take()).sort(), [block(22), block(23), block(24)].sort(), 'a reflector client: every client route');
  t.equal(r.stats.walked, 3, 'the whole table (every source may reach it)');
});

t.test('a peer that is the only source of its group\'s routes (an injector): no decision per route', async (t) => {
  const rib = makeRib();
  addPeer(rib, 1, { address: '192.0.2.1', asn: 65100 });
  const out = new AdjRibOutManager(rib, CTX);
  const inj = new FakeSink();
  const ro = out.addPeer(ebgp(1), inj);
  inj.take();
  for (let i = 0; i < 50; i++) announce(rib, '192.0.2.1|179', block(i), attrs({ asPath: seq(65100), nextHop: '192.0.2.1' }));
  rib.flush();
  t.equal(ro.group.decisions, 0, 'its own routes never go back to it');
  t.equal(inj.written.length, 0);
  const other = new FakeSink();
  const r2 = out.addPeer(ebgp(2), other);
  t.equal(r2.group, ro.group);
  t.equal(announced(other.take()).length, 50, 'another member of the group gets them all');
  t.equal(inj.written.length, 0);
});

t.test('reflector with ADD-PATH: reach by source, never back to the source, both paths to the others', async (t) => {
  const ctx = { ...CTX, clusterId: '244.0.0.1' };
  const rib = makeRib({ clusterId: '244.0.0.1', maxMultipath: 4 });
  addPeer(rib, 11, { rrClient: true }); addPeer(rib, 12, { rrClient: true }); addPeer(rib, 21); addPeer(rib, 22);
  const out = new AdjRibOutManager(rib, ctx);
  const c11 = new FakeSink(); const c12 = new FakeSink(); const n21 = new FakeSink(); const n22 = new FakeSink();
  out.addPeer(ibgp(11, { routeReflectorClient: true, addPath: true }), c11);
  out.addPeer(ibgp(12, { routeReflectorClient: true, addPath: true }), c12);
  out.addPeer(ibgp(21), n21);
  out.addPeer(ibgp(22), n22);
  for (const s of [c11, c12, n21, n22]) s.take();
  // from a non-client: to clients only
  announce(rib, '10.0.0.21|179', block(30), attrs({ nextHop: '10.0.0.21', localPref: 100 }));
  rib.flush();
  const ap = { fourOctetAs: true, addPath: new Set(['ipv4' as const]) };
  t.equal(announced(c11.take(ap)).length, 1);
  t.equal(announced(c12.take(ap)).length, 1);
  t.same(announced(n21.take()), [], 'not back to its source');
  t.same(announced(n22.take()), [], 'not from a non-client to a non-client');
  // an equal path from client 11: multipath of two
  announce(rib, '10.0.0.11|179', block(30), attrs({ nextHop: '10.0.0.11', localPref: 100 }));
  rib.flush();
  const a11 = c11.take(ap);
  const a12 = c12.take(ap);
  t.same(announced(a11), [], 'client 11 already has the non-client path and never gets its own');
  t.equal(announced(a12).length, 1, 'client 12 gets the second path');
  const nonClients = [n21.take(), n22.take()].map((m) => announced(m).length + withdrawn(m).length);
  t.ok(nonClients.every((x) => x <= 1), 'non-clients follow the best path only');
});

t.test('the export memo cleared at its limit while a source set is listed: nothing retained for good', async (t) => {
  // UpdateGroup memoizes exportAttributes per (source attribute set, source) and clears the
  // memo at 65 536 entries. An entry computed for a set already listed under another source,
  // at the moment of the clear, went onto the discarded list and its result was never released.
  const rib = makeRib();
  addPeer(rib, 2);
  addPeer(rib, 3);
  const prefixes: string[] = [];
  for (const second of [244, 99]) {
    for (let i = 0; i < 65536 && prefixes.length < 65536; i++) {
      const p = `10.${second}.${i >> 8}.${i & 255}/32`;
      if (second === 244 && p.startsWith('10.244.1.') && (i & 255) < 64) continue; // inside own block 10.244.1.0/26
      if (second === 99 && (i >> 8) === 5 && (i & 255) < 64) continue; // inside own block 10.99.5.0/26
      prefixes.push(p);
    }
  }
  prefixes.forEach((p, med) => announce(rib, '10.0.0.2|179', p, attrs({ nextHop: '10.0.0.2', med, localPref: 100 })));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  out.addPeer(ebgp(9), sink);
  sink.take();
  // The same attributes from another source: its set is listed in the memo, under source 2.
  announce(rib, '10.0.0.3|179', '10.99.200.0/24', attrs({ nextHop: '10.0.0.2', med: 0, localPref: 100 }));
  rib.flush();
  t.same(announced(sink.take()), ['10.99.200.0/24']);
  rib.removeSource('10.0.0.2|179');
  rib.removeSource('10.0.0.3|179');
  rib.flush();
  out.close();
  t.equal(rib.attrSets.size, 0, 'every attribute set released');
});
