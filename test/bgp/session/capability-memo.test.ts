// The received OPEN's capabilities are decoded once per distinct optional-parameter octets
// and negotiated once per (capability list, our OPEN, settings, peer AS and hold time): the
// shared results must equal what decoding and negotiating afresh gives, never be confused
// between inputs that differ in any octet or setting, and be immutable.
import t from 'tap';
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import { buildOpen } from '../../../src/bgp/session/open.js';
import { negotiate } from '../../../src/bgp/session/capabilities.js';
import type { Negotiated } from '../../../src/bgp/session/capabilities.js';
import { decodeCapability, decodeMessage, encodeMessage } from '../../../src/bgp/wire/index.js';
import type { Capability, OpenMessage } from '../../../src/bgp/wire/types.js';
import type { PeerSpec } from '../../../src/peering/peer-spec.js';

const spec = (over: Partial<PeerSpec> = {}): PeerSpec => ({
  key: '10.0.0.2|179', name: 'Mesh_10_0_0_2', type: 'mesh', address: '10.0.0.2', port: 179, family: 'ipv4',
  localAs: 64512, peerAs: 64512, passive: false, holdTime: 240, connectRetryTime: 5, gracefulRestartTime: 120,
  nextHopMode: 'auto', routeReflectorClient: false, addPath: true, ...over,
});
const ours = buildOpen(spec(), { routerId: '10.0.0.1' });
/** A mesh peer's OPEN: what buildOpen makes for that peer, with its own identifier. */
const meshOpen = (bgpId: string, over: Partial<OpenMessage> = {}): OpenMessage => ({ ...buildOpen(spec(), { routerId: bgpId }), ...over });
const decodeOpen = (b: Buffer): OpenMessage => decodeMessage(b, { fourOctetAs: false }) as OpenMessage;
/** The same message with plain, unfrozen objects: negotiate cannot memoize it. */
const plain = (o: OpenMessage): OpenMessage => ({ ...o, capabilities: o.capabilities.map((c) => structuredClone(c) as Capability) });
/** A result with plain Sets and Maps, to compare the memoized result with a fresh one. */
const view = (n: Negotiated) => ({
  ...n, families: [...n.families], addPathSend: [...n.addPathSend], addPathReceive: [...n.addPathReceive],
  peerGracefulRestart: n.peerGracefulRestart && { ...n.peerGracefulRestart, families: [...n.peerGracefulRestart.families] },
  decodeOptions: { ...n.decodeOptions, addPath: [...(n.decodeOptions.addPath ?? [])] },
  encodeOptions: { ...n.encodeOptions, addPath: [...(n.encodeOptions.addPath ?? [])] },
});

/** An independent decode of the optional parameters (non-extended form), capability by capability. */
function referenceCaps(frame: Buffer): Capability[] {
  const at = 19 + 9;
  if (frame[at]! + at + 1 !== frame.length) throw new Error('length');
  const out: Capability[] = [];
  for (let off = at + 1; off < frame.length;) {
    const type = frame[off]!;
    const len = frame[off + 1]!;
    if (type !== 2 || off + 2 + len > frame.length) throw new Error('param');
    const v = frame.subarray(off + 2, off + 2 + len);
    for (let c = 0; c < v.length;) {
      if (c + 2 > v.length || c + 2 + v[c + 1]! > v.length) throw new Error('capability');
      out.push(decodeCapability(v[c]!, v.subarray(c + 2, c + 2 + v[c + 1]!)));
      c += 2 + v[c + 1]!;
    }
    off += 2 + len;
  }
  return out;
}

t.test('decode: the same octets give one frozen list, equal to a fresh decode', async (t) => {
  const bytes = encodeMessage(meshOpen('10.0.0.2'), { fourOctetAs: false });
  const a = decodeOpen(bytes);
  const b = decodeOpen(Buffer.from(bytes));
  t.equal(a.capabilities, b.capabilities, 'one list for the same octets');
  t.ok(Object.isFrozen(a.capabilities) && a.capabilities.every((c) => Object.isFrozen(c) && (!('families' in c) || (Object.isFrozen(c.families) && c.families.every(Object.isFrozen)))), 'deeply frozen');
  t.same(a.capabilities, referenceCaps(bytes));
  t.same(a.capabilities, meshOpen('10.0.0.2').capabilities);
  const other = decodeOpen(encodeMessage(meshOpen('10.0.0.3'), { fourOctetAs: false }));
  t.equal(other.capabilities, a.capabilities, 'another identifier, the same capabilities: shared');
  t.equal(other.bgpId, '10.0.0.3');
  const unknown = encodeMessage(meshOpen('10.0.0.4', { capabilities: [...ours.capabilities, { kind: 'unknown', code: 73, data: Buffer.from('host') }] }), { fourOctetAs: false });
  const u1 = decodeOpen(unknown);
  t.not(decodeOpen(unknown).capabilities, u1.capabilities, 'a list with an unknown capability (a Buffer) is not shared');
  t.same(u1.capabilities, referenceCaps(unknown));
  const manyCaps: Capability[] = [...ours.capabilities, ...Array.from({ length: 100 }, (_, i): Capability => ({ kind: 'multiprotocol', afi: 1, safi: 1 + (i % 2) }))];
  const large = encodeMessage(meshOpen('10.0.0.5', { capabilities: manyCaps }), { fourOctetAs: false });
  t.ok(large.length > 19 + 10 + 512, 'optional parameters over 512 octets (RFC 9072 form)');
  const l1 = decodeOpen(large);
  t.same(l1.capabilities, manyCaps);
  t.not(decodeOpen(large).capabilities, l1.capabilities, 'a list from more than 512 octets is not kept');
});

t.test('decode: a change in any octet of the optional parameters is never answered from another list', async (t) => {
  const base = encodeMessage(meshOpen('10.0.0.2'), { fourOctetAs: false });
  const baseCaps = decodeOpen(base).capabilities;
  let differing = 0;
  for (let i = 19 + 9; i < base.length; i++) {
    for (const x of [0x01, 0x40, 0x80, 0xff]) {
      const m = Buffer.from(base);
      m[i]! ^= x;
      let want: Capability[] | Error;
      try { want = referenceCaps(m); } catch (e) { want = e as Error; }
      let got: readonly Capability[] | Error;
      try { got = decodeOpen(m).capabilities; } catch (e) { got = e as Error; }
      if (want instanceof Error) {
        // The codec checks more than the reference (capability lengths): it must not return a list
        // where the reference finds the parameters malformed.
        t.ok(got instanceof Error, `octet ${i} ^ ${x}: malformed, rejected`);
        continue;
      }
      if (got instanceof Error) continue; // a capability value the codec rejects (bad length)
      t.same(got, want, `octet ${i} ^ ${x}: equal to a fresh decode`);
      t.same(decodeOpen(Buffer.from(m)).capabilities, want, `octet ${i} ^ ${x}: equal when decoded again`);
      if (!isDeepStrictEqual(want, baseCaps)) differing++; // else a reserved bit: the same capabilities
    }
  }
  t.ok(differing > 40, `${differing} one-octet changes gave other capabilities, none answered with the base list`);
  t.same(decodeOpen(base).capabilities, baseCaps, 'the base still decodes to its own list');
});

t.test('negotiate: memoized per capability list, equal to a fresh negotiation, never confused', async (t) => {
  const enc = (o: OpenMessage) => decodeOpen(encodeMessage(o, { fourOctetAs: false }));
  const p2 = enc(meshOpen('10.0.0.2'));
  const p3 = enc(meshOpen('10.0.0.3'));
  const n2 = negotiate(ours, p2, { localAs: 64512 });
  const n3 = negotiate(ours, p3, { localAs: 64512 });
  t.equal(n3.families, n2.families, 'the second mesh peer reuses the first negotiation');
  t.equal(n2.peerRouterId, '10.0.0.2');
  t.equal(n3.peerRouterId, '10.0.0.3', 'the identifier is the peer\'s own');
  t.same(view(n3), view(negotiate(ours, plain(p3), { localAs: 64512 })), 'equal to a fresh negotiation');
  t.throws(() => (n2.families as Set<string>).add('ipv6'), 'the shared sets cannot change');
  t.throws(() => (n2.decodeOptions.addPath as Set<string>).clear());
  t.throws(() => (n2.peerGracefulRestart!.families as Map<string, unknown>).delete('ipv4'));
  t.ok(Object.isFrozen(n2.decodeOptions) && Object.isFrozen(n2.encodeOptions) && Object.isFrozen(n2.peerGracefulRestart));

  // Everything else the result depends on, one at a time, against the same capability list.
  const cases: [string, OpenMessage, OpenMessage, { localAs: number; keepaliveTime?: number }][] = [
    ['peer hold time', ours, { ...p2, holdTime: 30 }, { localAs: 64512 }],
    ['peer My AS', ours, { ...p2, myAs: 64999 }, { localAs: 64512 }],
    ['local AS', ours, p2, { localAs: 64513 }],
    ['keepalive time', ours, p2, { localAs: 64512, keepaliveTime: 10 }],
    ['our OPEN (no ADD-PATH)', buildOpen(spec({ addPath: false }), { routerId: '10.0.0.1' }), p2, { localAs: 64512 }],
    ['our OPEN (hold time)', buildOpen(spec({ holdTime: 9 }), { routerId: '10.0.0.1' }), p2, { localAs: 64512 }],
    ['peer capabilities (no ADD-PATH)', ours, enc(meshOpen('10.0.0.2', { capabilities: ours.capabilities.filter((c) => c.kind !== 'addPath') })), { localAs: 64512 }],
  ];
  for (const [what, o, p, opts] of cases) {
    const fresh = view(negotiate(plain(o), plain(p), opts));
    t.same(view(negotiate(o, p, opts)), fresh, `${what}: equal to a fresh negotiation`);
    t.same(view(negotiate(o, p, opts)), fresh, `${what}: again, from the memo`);
    t.same(view(negotiate(ours, p2, { localAs: 64512 })), view(n2), `${what}: the base case is unchanged afterwards`);
  }
  // Without the 4-octet AS capability the peer's AS is My AS (RFC 6793 §4.2.2).
  const noFour = enc(meshOpen('10.0.0.2', { capabilities: ours.capabilities.filter((c) => c.kind !== 'fourOctetAs') }));
  t.equal(negotiate(ours, noFour, { localAs: 64512 }).peerAs, 64512);
  const other = { ...noFour, myAs: 64999 };
  t.same(view(negotiate(ours, other, { localAs: 64512 })), view(negotiate(ours, plain(other), { localAs: 64512 })), 'peer My AS: equal to a fresh negotiation');
  t.equal(negotiate(ours, other, { localAs: 64512 }).peerAs, 64999);
  t.equal(negotiate(ours, { ...p2, holdTime: 30 }, { localAs: 64512 }).holdTime, 30);
  t.equal(negotiate(ours, p2, { localAs: 64513 }).ebgp, true);
  t.equal(negotiate(buildOpen(spec({ addPath: false }), { routerId: '10.0.0.1' }), p2, { localAs: 64512 }).addPathSend.size, 0);
});
