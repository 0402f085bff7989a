// A route's prefix on its way to the kernel, for random prefixes of every length: the FIB
// parses an IPv4 prefix once (parseIpv4Prefix: address × 64 + length) and hands the number to
// the netlink request, which copies a per-body template and writes the length and address
// into it; every other prefix goes through encodeRouteMessage's text path. Checked against
// oracles that share no code with them (plain arithmetic for IPv4, ip-address's BigInt
// form for IPv6): the number, the canonical text, the template message byte for byte against
// the text path (with and without host bits, alone or in a datagram of many), the rtmsg
// prefix length and RTA_DST octets, the prefix decoded back; the pool found from the
// number against poolFor's parsed path; an IPv6 prefix never taken for an IPv4 number; and
// a peer's NLRI with host bits set decoded to the canonical prefix (where they are cleared).
import t from 'tap';
import { Address6 } from 'ip-address';
import { decodeRoute, encodeRouteMessage, fromIpv4Template, ipv4RouteTemplate, splitMessages, writeFromIpv4Template, type RouteOp } from '../../src/fib/netlink-codec.js';
import { canonicalPrefix, parseIpv4Prefix, parsePrefix } from '../../src/net/prefix.js';
import { ipv4PoolIndex, poolFor, type Pool } from '../../src/fib/route-shape.js';
import type { RouteBody } from '../../src/fib/kernel.js';
import { decodeNlri } from '../../src/bgp/wire/nlri.js';
import { prng as rng } from '../bgp/wire/helpers.js';

const OPS: readonly RouteOp[] = ['replace', 'create', 'remove'];
const base = { table: 254, protocol: 12, metric: 0 } as const;
/** The shapes FibSync writes: blackhole (own block), via a gateway, IPIP onlink, a device route, ECMP, a table past 255. */
const V4_BODIES: readonly RouteBody[] = [
  { ...base, family: 'ipv4', type: 'blackhole', nextHops: [] },
  { ...base, family: 'ipv4', type: 'unicast', nextHops: [{ gateway: '10.0.0.12', ifindex: 2, onlink: false }] },
  { ...base, family: 'ipv4', type: 'unicast', nextHops: [{ gateway: '10.0.1.9', ifindex: 7, onlink: true }] },
  { ...base, family: 'ipv4', type: 'unicast', metric: undefined, nextHops: [{ ifindex: 4, onlink: false }] },
  { ...base, family: 'ipv4', type: 'unicast', nextHops: [{ gateway: '10.0.0.12', ifindex: 2, onlink: false, weight: 1 }, { gateway: '10.0.0.13', ifindex: 2, onlink: false, weight: 2 }, { gateway: '10.0.1.14', ifindex: 7, onlink: true }] },
  { ...base, family: 'ipv4', type: 'unicast', table: 1000, nextHops: [{ gateway: '10.0.0.12', ifindex: 2, onlink: false }] },
];
const V6_BODIES: readonly RouteBody[] = [
  { ...base, family: 'ipv6', metric: 1024, type: 'blackhole', nextHops: [] },
  { ...base, family: 'ipv6', metric: 1024, type: 'unicast', nextHops: [{ gateway: 'fd00::12', ifindex: 2, onlink: false }] },
  { ...base, family: 'ipv6', metric: 1024, type: 'unicast', nextHops: [{ gateway: 'fd00::12', ifindex: 2, onlink: false }, { gateway: 'fd00::13', ifindex: 2, onlink: false }] },
];

/** An IPv4 address (0 … 2^32 − 1) as a dotted quad, by division. */
const dotted = (a: number): string => [2 ** 24, 2 ** 16, 2 ** 8, 1].map((d) => Math.floor(a / d) % 256).join('.');
/** The address with the bits past `len` cleared, by division. */
const maskV4 = (a: number, len: number): number => Math.floor(a / 2 ** (32 - len)) * 2 ** (32 - len);

/** A random IPv4 address and length: the ends (/0, /1, /31, /32, 0.0.0.0, 255.255.255.255) often. */
function randomV4(r: () => number): { addr: number; len: number } {
  const x = r();
  const len = x < 0.1 ? 0 : x < 0.2 ? 32 : x < 0.25 ? 1 : x < 0.3 ? 31 : Math.floor(r() * 33);
  const y = r();
  const addr = y < 0.05 ? 0 : y < 0.1 ? 2 ** 32 - 1 : Math.floor(r() * 2 ** 32);
  return { addr, len };
}

t.test('IPv4: the number, the canonical text and the template message agree with the text path and the oracle', async (t) => {
  const r = rng(4271);
  const templates = V4_BODIES.map((b) => OPS.map((op) => ipv4RouteTemplate(op, b)));
  let checked = 0;
  const lengths = new Set<number>();
  const bad: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const { addr, len } = randomV4(r);
    lengths.add(len);
    const masked = maskV4(addr, len);
    const text = `${dotted(addr)}/${len}`; // host bits kept, as text from a careless source would be
    const canonical = `${dotted(masked)}/${len}`;
    const v4 = parseIpv4Prefix(text);
    if (v4 !== masked * 64 + len) { bad.push(`${text}: parseIpv4Prefix ${v4}, want ${masked * 64 + len}`); continue; }
    if (parseIpv4Prefix(canonical) !== v4) bad.push(`${canonical}: another number than ${text}`);
    if (Math.floor(v4 / 64) !== masked || v4 % 64 !== len) bad.push(`${text}: the number does not split into address and length`);
    if (canonicalPrefix(text) !== canonical) bad.push(`${text}: canonicalPrefix ${canonicalPrefix(text)}, want ${canonical}`);
    const b = V4_BODIES.length * OPS.length;
    const k = i % b;
    const body = V4_BODIES[Math.floor(k / OPS.length)]!;
    const op = OPS[k % OPS.length]!;
    const seq = Math.floor(r() * 2 ** 32);
    const viaTemplate = fromIpv4Template(templates[Math.floor(k / OPS.length)]![k % OPS.length]!, v4, seq);
    const viaText = encodeRouteMessage(op, canonical, body, seq, false);
    if (!viaTemplate.equals(viaText)) { bad.push(`${op} ${canonical} (${body.type}, ${body.nextHops.length} hops): template ${viaTemplate.toString('hex')} text ${viaText.toString('hex')}`); continue; }
    if (!encodeRouteMessage(op, text, body, seq, false).equals(viaText)) bad.push(`${op} ${text}: host bits reach the message`);
    // the fields, read back by offset: rtm_family, rtm_dst_len, then RTA_DST (type 1, 4 octets) first
    if (viaText[16] !== 2 || viaText[17] !== len || viaText.readUInt16LE(30) !== 1 || viaText.readUInt16LE(28) !== 8 || viaText.readUInt32BE(32) !== masked) {
      bad.push(`${op} ${canonical}: rtmsg/RTA_DST ${viaText.subarray(16, 36).toString('hex')}`);
    }
    const back = decodeRoute(splitMessages(viaTemplate)[0]!.data);
    if (back?.prefix !== canonical || back.family !== 'ipv4') bad.push(`${op} ${canonical}: decoded as ${back?.prefix}`);
    checked++;
  }
  t.same(bad.slice(0, 20), [], `${checked} prefixes checked`);
  t.equal(lengths.size, 33, 'every length from /0 to /32 drawn');
});

t.test('IPv4: templates of different bodies and ops back to back in one datagram, each as the text path made it', async (t) => {
  const r = rng(7);
  for (let round = 0; round < 50; round++) {
    const parts: { op: RouteOp; body: RouteBody; prefix: string; seq: number }[] = [];
    for (let i = 0, n = 1 + Math.floor(r() * 40); i < n; i++) {
      const { addr, len } = randomV4(r);
      parts.push({ op: OPS[Math.floor(r() * 3)]!, body: V4_BODIES[Math.floor(r() * V4_BODIES.length)]!, prefix: `${dotted(maskV4(addr, len))}/${len}`, seq: Math.floor(r() * 2 ** 32) });
    }
    const want = Buffer.concat(parts.map((p) => encodeRouteMessage(p.op, p.prefix, p.body, p.seq, false)));
    const out = Buffer.alloc(want.length + 8, 0xa5);
    let off = 3;
    for (const p of parts) off = writeFromIpv4Template(out, off, ipv4RouteTemplate(p.op, p.body), parseIpv4Prefix(p.prefix), p.seq);
    if (off !== 3 + want.length || !out.subarray(3, off).equals(want) || out[2] !== 0xa5 || out[off] !== 0xa5) {
      t.fail(`round ${round}: the datagram differs from the text path's messages`);
      return;
    }
    t.same(splitMessages(out.subarray(3, off)).map((m) => [m.seq, decodeRoute(m.data)?.prefix]), parts.map((p) => [p.seq, p.prefix]), `round ${round}`);
  }
});

t.test('IPv6: never an IPv4 number; the text path writes the masked address and decodes back canonical', async (t) => {
  const r = rng(2460);
  const bad: string[] = [];
  const lengths = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    let value = 0n;
    const y = r();
    if (y < 0.05) value = 0n;
    else if (y < 0.1) value = (1n << 128n) - 1n;
    else for (let w = 0; w < 8; w++) value = (value << 16n) | BigInt(r() < 0.3 ? 0 : Math.floor(r() * 65536));
    const x = r();
    const len = x < 0.1 ? 0 : x < 0.2 ? 128 : x < 0.25 ? 1 : x < 0.3 ? 127 : Math.floor(r() * 129);
    lengths.add(len);
    const masked = len === 0 ? 0n : (value >> BigInt(128 - len)) << BigInt(128 - len);
    const canonical = `${Address6.fromBigInt(masked).correctForm()}/${len}`;
    const text = `${r() < 0.5 ? Address6.fromBigInt(value).canonicalForm() : Address6.fromBigInt(value).correctForm()}/${len}`;
    if (parseIpv4Prefix(text) !== -1 || parseIpv4Prefix(canonical) !== -1) bad.push(`${text}: taken for IPv4`);
    if (canonicalPrefix(text) !== canonical) bad.push(`${text}: canonicalPrefix ${canonicalPrefix(text)}, want ${canonical}`);
    const body = V6_BODIES[i % V6_BODIES.length]!;
    const op = OPS[i % 3]!;
    const m = encodeRouteMessage(op, text, body, i, false);
    const dst = Buffer.from(masked.toString(16).padStart(32, '0'), 'hex');
    if (m[16] !== 10 || m[17] !== len || m.readUInt16LE(28) !== 20 || m.readUInt16LE(30) !== 1 || !m.subarray(32, 48).equals(dst)) {
      bad.push(`${op} ${text}: rtmsg/RTA_DST ${m.subarray(16, 48).toString('hex')}`);
    }
    const back = decodeRoute(splitMessages(m)[0]!.data);
    if (back?.prefix !== canonical || back.family !== 'ipv6') bad.push(`${op} ${text}: decoded as ${back?.prefix}, want ${canonical}`);
  }
  t.same(bad.slice(0, 20), [], 'IPv6 prefixes checked');
  t.equal(lengths.size, 129, 'every length from /0 to /128 drawn');
});

t.test('the pool found from the IPv4 number is the one poolFor finds from the parsed prefix (longest match, first on ties)', async (t) => {
  const r = rng(99);
  const bad: string[] = [];
  for (let round = 0; round < 300; round++) {
    const pools: Pool[] = [];
    for (let i = 0, n = Math.floor(r() * 6); i < n; i++) {
      const { addr, len } = randomV4(r);
      const near = r() < 0.5 && pools.length > 0 ? parsePrefix(pools[0]!.cidr) : undefined; // nested pools
      const a = near ? (near.bytes[0]! * 2 ** 24 + near.bytes[1]! * 2 ** 16 + near.bytes[2]! * 2 ** 8 + near.bytes[3]!) + Math.floor(r() * 2 ** (32 - near.length)) : addr;
      pools.push({ cidr: `${dotted(maskV4(a, len))}/${len}`, ipipMode: 'never', vxlanMode: 'never' });
      if (r() < 0.1) pools.push({ ...pools[pools.length - 1]! }); // the same cidr twice
    }
    if (r() < 0.3) pools.push({ cidr: 'fd00:10:244::/48', ipipMode: 'never', vxlanMode: 'never' });
    for (let i = 0; i < 30; i++) {
      let { addr, len } = randomV4(r);
      const inPool = pools.length > 0 && r() < 0.6 ? parsePrefix(pools[Math.floor(r() * pools.length)]!.cidr) : undefined;
      if (inPool?.family === 'ipv4') {
        addr = inPool.bytes[0]! * 2 ** 24 + inPool.bytes[1]! * 2 ** 16 + inPool.bytes[2]! * 2 ** 8 + inPool.bytes[3]! + Math.floor(r() * 2 ** (32 - inPool.length));
        len = inPool.length + Math.floor(r() * (33 - inPool.length));
      }
      const prefix = `${dotted(maskV4(addr, len))}/${len}`;
      const fast = ipv4PoolIndex(parseIpv4Prefix(prefix), pools);
      const slow = poolFor(parsePrefix(prefix), pools); // the parsed prefix: the byte-wise path
      const want = slow === undefined ? -1 : pools.indexOf(slow);
      if (fast !== want) bad.push(`${prefix} in [${pools.map((p) => p.cidr).join(' ')}]: index ${fast}, poolFor ${want}`);
    }
  }
  t.same(bad.slice(0, 20), []);
});

t.test('a peer\'s prefixes reach the Loc-RIB (and so the FIB) canonical: decodeNlri masks the host bits of random NLRI of every length', async (t) => {
  const r = rng(4760);
  const bad: string[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const max = family === 'ipv4' ? 32 : 128;
    for (const addPath of [false, true]) {
      const wire: number[] = [];
      const want: { prefix: string; pathId?: number }[] = [];
      for (let len = 0; len <= max; len++) {
        const n = (len + 7) >> 3;
        const octets = Array.from({ length: n }, () => Math.floor(r() * 256)); // host bits set at random
        const id = Math.floor(r() * 2 ** 32);
        if (addPath) wire.push(id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255);
        wire.push(len, ...octets);
        const full = [...octets, ...Array<number>(max / 8 - n).fill(0)];
        let prefix: string;
        if (family === 'ipv4') {
          const a = full.reduce((v, o) => v * 256 + o, 0);
          prefix = `${dotted(maskV4(a, len))}/${len}`;
        } else {
          const v = full.reduce((x, o) => (x << 8n) | BigInt(o), 0n);
          const masked = len === 0 ? 0n : (v >> BigInt(128 - len)) << BigInt(128 - len);
          prefix = `${Address6.fromBigInt(masked).correctForm()}/${len}`;
        }
        want.push(addPath ? { prefix, pathId: id } : { prefix });
      }
      const got = decodeNlri(Buffer.from(wire), 0, wire.length, family, addPath);
      want.forEach((w, i) => { if (got[i]?.prefix !== w.prefix || got[i]?.pathId !== w.pathId) bad.push(`${family}${addPath ? ' add-path' : ''} /${i}: ${JSON.stringify(got[i])}, want ${JSON.stringify(w)}`); });
      for (const g of got) if (canonicalPrefix(g.prefix) !== g.prefix) bad.push(`${g.prefix} is not canonical`);
    }
  }
  t.same(bad.slice(0, 20), []);
});
