// rtnetlink route messages: hex vectors commented per field (linux/rtnetlink.h), decode
// round trips, and datagram splitting.
import t from 'tap';
import { decodeLink, decodeRoute, encodeRouteMessage, encodeRouteRequest, errnoOf, fromIpv4Template, ipv4RouteTemplate, splitMessages, writeFromIpv4Template } from '../../src/fib/netlink-codec.js';
import { parseIpv4Prefix } from '../../src/net/prefix.js';
import type { KernelRoute } from '../../src/fib/kernel.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#.*$/gm, ''), 'hex');

const blackhole: KernelRoute = { prefix: '10.244.1.0/26', family: 'ipv4', table: 254, protocol: 12, type: 'blackhole', nextHops: [], metric: 0 };
const ecmp: KernelRoute = {
  prefix: '10.244.4.0/26', family: 'ipv4', table: 254, protocol: 12, type: 'unicast', metric: 0,
  nextHops: [{ gateway: '10.0.0.12', ifindex: 2, onlink: false, weight: 1 }, { gateway: '10.0.0.13', ifindex: 9, onlink: true, weight: 3 }],
};

const BLACKHOLE_NEWROUTE = `
  34000000 1800 0505 07000000 00000000   # nlmsghdr: len 52, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE, seq 7, pid 0
  02 1a 00 00 fe 0c 00 06 00000000        # rtmsg: AF_INET, /26, src 0, tos 0, main, proto bird, scope universe, RTN_BLACKHOLE
  0800 0100 0af40100                      # RTA_DST 10.244.1.0
  0800 0f00 fe000000                      # RTA_TABLE 254
  0800 0600 00000000                      # RTA_PRIORITY 0
`;
const ECMP_NEWROUTE = `
  58000000 1800 0105 08000000 00000000   # nlmsghdr: len 88, RTM_NEWROUTE, REQUEST|REPLACE|CREATE (no ACK), seq 8
  02 1a 00 00 fe 0c 00 01 00000000        # rtmsg: AF_INET, /26, main, proto bird, scope universe, RTN_UNICAST
  0800 0100 0af40400                      # RTA_DST 10.244.4.0
  0800 0f00 fe000000                      # RTA_TABLE 254
  0800 0600 00000000                      # RTA_PRIORITY 0
  2400 0900                               # RTA_MULTIPATH, 36 bytes
    1000 00 00 02000000                   #   rtnexthop: len 16, flags 0, hops 0 (weight 1), ifindex 2
    0800 0500 0a00000c                    #     RTA_GATEWAY 10.0.0.12
    1000 04 02 09000000                   #   rtnexthop: len 16, RTNH_F_ONLINK, hops 2 (weight 3), ifindex 9
    0800 0500 0a00000d                    #     RTA_GATEWAY 10.0.0.13
`;

t.test('blackhole RTM_NEWROUTE', async (t) => {
  t.equal(encodeRouteRequest('replace', blackhole, 7, true).toString('hex'), hex(BLACKHOLE_NEWROUTE).toString('hex'));
});

t.test('multipath RTM_NEWROUTE', async (t) => {
  t.equal(encodeRouteRequest('replace', ecmp, 8, false).toString('hex'), hex(ECMP_NEWROUTE).toString('hex'));
});

t.test('RTM_DELROUTE names the route: type, protocol, metric, next hops (scope nowhere)', async (t) => {
  // IPv4 takes RTA_PRIORITY 0 for any metric: without the type and next hops a delete of our
  // route already gone would take a proto-bird route at another metric. IPv6 merges a route
  // another program appends into ours as ECMP siblings: with the next hops only ours go.
  const v6: KernelRoute = { prefix: 'fd00:244:1::/64', family: 'ipv6', table: 254, protocol: 12, type: 'unicast', metric: 1024, nextHops: [{ gateway: 'fd00::12', ifindex: 2, onlink: false }] };
  const two: KernelRoute = { ...v6, nextHops: [...v6.nextHops, { gateway: 'fd00::13', ifindex: 2, onlink: false }] };
  const hole: KernelRoute = { ...v6, type: 'blackhole', nextHops: [] };
  const hops = (m: Buffer) => decodeRoute(m.subarray(16))?.nextHops.map((h) => `${h.gateway}@${h.ifindex}`);
  for (const [r, want] of [[v6, ['fd00::12@2']], [two, ['fd00::12@2', 'fd00::13@2']], [hole, []], [ecmp, ['10.0.0.12@2', '10.0.0.13@9']], [blackhole, []]] as const) {
    const del = encodeRouteRequest('remove', r, 1, true);
    const add = encodeRouteRequest('replace', r, 1, true);
    const what = `${r.family} ${r.type} ${r.nextHops.length}`;
    t.equal(del.readUInt16LE(4), 25, `${what}: RTM_DELROUTE`);
    t.equal(del.readUInt16LE(6), 0x5, 'REQUEST|ACK only');
    t.equal(del.readUInt8(16 + 5), 12, 'protocol bird: the kernel deletes only ours');
    t.equal(del.readUInt8(16 + 6), 255, 'RT_SCOPE_NOWHERE');
    t.equal(del.readUInt8(16 + 7), add.readUInt8(16 + 7), 'the type of the route');
    t.same(hops(del), want, r.nextHops.length === 1 ? 'RTA_GATEWAY, RTA_OIF' : r.nextHops.length ? 'RTA_MULTIPATH' : 'no next hops');
    t.equal(del.subarray(28).toString('hex'), add.subarray(28).toString('hex'), 'the attributes of its write');
  }
});

t.test('an IPv4 template gives encodeRouteMessage\'s bytes for every prefix, operation and body', async (t) => {
  const via: KernelRoute = { prefix: '0.0.0.0/0', family: 'ipv4', table: 254, protocol: 12, type: 'unicast', metric: 0, nextHops: [{ gateway: '10.0.0.2', ifindex: 3, onlink: false }] };
  const tunl: KernelRoute = { ...via, nextHops: [{ gateway: '10.0.1.9', ifindex: 7, onlink: true }] };
  const dev: KernelRoute = { ...via, metric: undefined, nextHops: [{ ifindex: 4, onlink: false }] };
  const bigTable: KernelRoute = { ...via, table: 1000 };
  let n = 0;
  for (const body of [blackhole, ecmp, via, tunl, dev, bigTable]) {
    for (const op of ['replace', 'create', 'remove'] as const) {
      const tpl = ipv4RouteTemplate(op, body);
      for (const prefix of ['10.244.4.0/26', '0.0.0.0/0', '255.255.255.255/32', '192.168.0.0/16', '10.0.0.128/25']) {
        const seq = 0xfffffff0 + n++;
        t.equal(fromIpv4Template(tpl, parseIpv4Prefix(prefix), seq).toString('hex'), encodeRouteMessage(op, prefix, body, seq, false).toString('hex'), `${op} ${prefix}`);
      }
    }
  }
  t.equal(ipv4RouteTemplate('replace', via).readUInt32LE(8), 0, 'the template itself is not changed');
});

t.test('IPv4 templates written back to back into one datagram: each message as encodeRouteMessage\'s, split again', async (t) => {
  const via: KernelRoute = { ...blackhole, type: 'unicast', nextHops: [{ gateway: '10.0.0.12', ifindex: 2, onlink: false }] };
  const parts: [Buffer, string, number][] = [
    [ipv4RouteTemplate('replace', via), '10.244.4.0/26', 7],
    [ipv4RouteTemplate('create', ecmp), '192.168.0.0/16', 8],
    [ipv4RouteTemplate('remove', blackhole), '255.255.255.255/32', 0xffffffff],
  ];
  const out = Buffer.alloc(parts.reduce((n, [tpl]) => n + tpl.length, 0) + 8, 0xee);
  let off = 4;
  for (const [tpl, prefix, seq] of parts) off = writeFromIpv4Template(out, off, tpl, parseIpv4Prefix(prefix), seq);
  t.equal(off, out.length - 4, 'returns where the last message ends');
  t.equal(out.readUInt32LE(0), 0xeeeeeeee, 'nothing written before the offset');
  t.equal(out.readUInt32LE(off), 0xeeeeeeee, 'nor after the last message');
  const msgs = splitMessages(out.subarray(4, off));
  t.equal(msgs.length, 3);
  const bodies = [via, ecmp, blackhole];
  const ops = ['replace', 'create', 'remove'] as const;
  parts.forEach(([, prefix, seq], i) => {
    t.equal(msgs[i]!.seq, seq);
    t.same(decodeRoute(msgs[i]!.data)?.prefix, prefix);
    const want = encodeRouteMessage(ops[i]!, prefix, bodies[i]!, seq, false);
    t.equal(out.subarray(4, off).toString('hex').includes(want.toString('hex')), true, `${ops[i]} ${prefix} byte for byte`);
  });
});

t.test('decode round trips (the kernel answers with the same layout)', async (t) => {
  for (const r of [blackhole, ecmp]) {
    const m = encodeRouteRequest('replace', r, 1, false);
    const back = decodeRoute(splitMessages(m)[0]!.data)!;
    t.same({ ...back, scope: undefined }, { ...r, scope: undefined }, r.prefix);
  }
  const single: KernelRoute = { prefix: 'fd00:10:244:1::/122', family: 'ipv6', table: 254, protocol: 12, type: 'unicast', metric: 1024, nextHops: [{ gateway: 'fd00::12', ifindex: 2, onlink: true }] };
  const back = decodeRoute(splitMessages(encodeRouteRequest('replace', single, 1, false))[0]!.data);
  t.same(back, { ...single, scope: 0 });
});

t.test('NLMSG_ERROR and links', async (t) => {
  // two messages in one datagram: an error (-ENETUNREACH = -101) for seq 3, then an ACK for seq 4
  const buf = hex(`
    24000000 0200 0001 03000000 00000000  9bffffff  00000000000000000000000000000000
    24000000 0200 0001 04000000 00000000  00000000  00000000000000000000000000000000
  `);
  const msgs = splitMessages(buf);
  t.same(msgs.map((m) => [m.type, m.seq, errnoOf(m)]), [[2, 3, 101], [2, 4, 0]]);
  // ifinfomsg: AF_UNSPEC, ARPHRD_ETHER, index 7, IFF_UP|IFF_RUNNING; IFLA_IFNAME "tunl0"
  const link = hex('00 00 0100 07000000 41000000 00000000  0a00 0300 74756e6c3000 0000');
  t.same(decodeLink(link), { ifindex: 7, name: 'tunl0', up: true });
  t.same(splitMessages(hex('30000000 0200')), [], 'a truncated datagram yields nothing');
});
