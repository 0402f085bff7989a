// UPDATE vectors (RFC 4271 §4.3), one or more per attribute, MP-BGP, ADD-PATH, RFC 6793, End-of-RIB.
import { hex } from '../helpers.js';
import { FOUR, TWO, type Vector } from './types.js';

export const updateVectors: Vector[] = [
  {
    name: 'UPDATE IPv4, every attribute (4-octet AS session)',
    opts: FOUR,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0097                              # length 151
      02                                # type UPDATE
      0004                              # withdrawn routes length 4
      18 c0a801                         #   192.168.1.0/24
      0074                              # total path attribute length 116
      40 01 01 00                       # ORIGIN (well-known) IGP
      40 02 0e 02 03 0000fde9 0000fdea fa56ea00  # AS_PATH: AS_SEQUENCE 65001 65002 4200000000
      40 03 04 0a000001                 # NEXT_HOP 10.0.0.1
      80 04 04 00000064                 # MULTI_EXIT_DISC 100 (optional)
      40 05 04 000000c8                 # LOCAL_PREF 200
      40 06 00                          # ATOMIC_AGGREGATE
      c0 07 08 0000fde9 0a000002        # AGGREGATOR AS 65001, 10.0.0.2 (4-octet form)
      c0 08 08 fde90064 ffffff01        # COMMUNITIES 65001:100, NO_EXPORT
      80 09 04 0a000003                 # ORIGINATOR_ID 10.0.0.3
      80 0a 08 0a000004 0a000005        # CLUSTER_LIST 10.0.0.4 10.0.0.5
      c0 10 08 0002fde900000064         # EXTENDED_COMMUNITIES route target 65001:100
      c0 20 0c fa56ea00 00000001 00000002  # LARGE_COMMUNITY 4200000000:1:2
      e0 63 02 abcd                     # unknown type 99, optional transitive partial
      1a 0af40100                       # NLRI 10.244.1.0/26
      10 0a01                           # NLRI 10.1.0.0/16`,
    expect: {
      type: 'update',
      withdrawn: [{ prefix: '192.168.1.0/24' }],
      nlri: [{ prefix: '10.244.1.0/26' }, { prefix: '10.1.0.0/16' }],
      attributes: {
        origin: 0,
        asPath: [{ type: 2, asns: [65001, 65002, 4200000000] }],
        nextHop: '10.0.0.1',
        med: 100,
        localPref: 200,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: '10.0.0.2' },
        communities: [0xfde90064, 0xffffff01],
        originatorId: '10.0.0.3',
        clusterList: ['10.0.0.4', '10.0.0.5'],
        extendedCommunities: [hex`0002fde900000064`],
        largeCommunities: [[4200000000, 1, 2]],
        unknown: [{ flags: 0xe0, type: 99, value: hex`abcd` }],
      },
    },
  },
  {
    name: 'UPDATE 2-octet AS_PATH with AS_SET and confederation segments, 2-octet AGGREGATOR',
    opts: TWO,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0046                              # length 70
      02                                # type UPDATE
      0000                              # no withdrawn routes
      002b                              # total path attribute length 43
      40 01 01 02                       # ORIGIN INCOMPLETE
      40 02 14                          # AS_PATH, 20 octets:
        03 01 fde8                      #   AS_CONFED_SEQUENCE 65000
        02 02 fde9 0064                 #   AS_SEQUENCE 65001 100
        01 02 00c8 012c                 #   AS_SET {200 300}
        04 01 fdea                      #   AS_CONFED_SET {65002}
      40 03 04 0a000001                 # NEXT_HOP 10.0.0.1
      c0 07 06 fde9 0a000002            # AGGREGATOR AS 65001 (2-octet), 10.0.0.2
      18 0a0000                         # NLRI 10.0.0.0/24`,
    expect: {
      type: 'update', withdrawn: [], nlri: [{ prefix: '10.0.0.0/24' }],
      attributes: {
        origin: 2,
        asPath: [{ type: 3, asns: [65000] }, { type: 2, asns: [65001, 100] }, { type: 1, asns: [200, 300] }, { type: 4, asns: [65002] }],
        nextHop: '10.0.0.1',
        aggregator: { asn: 65001, address: '10.0.0.2' },
      },
    },
  },
  {
    name: 'UPDATE IPv6 MP_REACH_NLRI with global + link-local next hops',
    opts: FOUR,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0054                              # length 84
      02                                # type UPDATE
      0000                              # no withdrawn routes
      003d                              # total path attribute length 61
      80 0e 33                          # MP_REACH_NLRI, length 51
        0002 01                         #   AFI 2 IPv6, SAFI 1 unicast
        20                              #   next hop length 32
        fd000000000000000000000000000001  # global fd00::1
        fe800000000000000000000000000001  # link-local fe80::1
        00                              #   reserved
        40 fd00000100000000             #   fd00:1::/64
        20 20010db8                     #   2001:db8::/32
      40 01 01 00                       # ORIGIN IGP
      40 02 00                          # AS_PATH empty (iBGP)`,
    expect: {
      type: 'update', withdrawn: [], nlri: [],
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1', 'fe80::1'], nlri: [{ prefix: 'fd00:1::/64' }, { prefix: '2001:db8::/32' }] },
        origin: 0,
        asPath: [],
      },
    },
  },
  {
    name: 'UPDATE IPv6 MP_UNREACH_NLRI',
    opts: FOUR,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0026                              # length 38
      02 0000                           # UPDATE, no withdrawn routes
      000f                              # total path attribute length 15
      80 0f 0c                          # MP_UNREACH_NLRI, length 12
        0002 01                         #   IPv6 unicast
        40 fd00000100000000             #   fd00:1::/64`,
    expect: { type: 'update', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: 'fd00:1::/64' }] } } },
  },
  {
    name: 'UPDATE IPv4 with ADD-PATH path identifiers',
    opts: { fourOctetAs: true, addPath: new Set(['ipv4'] as const) },
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      003f                              # length 63
      02                                # type UPDATE
      0008                              # withdrawn routes length 8
      00000001 18 c0a801                #   path 1: 192.168.1.0/24
      000e                              # total path attribute length 14
      40 01 01 00                       # ORIGIN IGP
      40 02 00                          # AS_PATH empty
      40 03 04 0a000001                 # NEXT_HOP 10.0.0.1
      00000002 1a 0af40100              # NLRI path 2: 10.244.1.0/26
      00000003 1a 0af40100              # NLRI path 3: 10.244.1.0/26`,
    expect: {
      type: 'update',
      withdrawn: [{ prefix: '192.168.1.0/24', pathId: 1 }],
      nlri: [{ prefix: '10.244.1.0/26', pathId: 2 }, { prefix: '10.244.1.0/26', pathId: 3 }],
      attributes: { origin: 0, asPath: [], nextHop: '10.0.0.1' },
    },
  },
  {
    name: 'UPDATE IPv6 MP_REACH_NLRI with ADD-PATH',
    opts: { fourOctetAs: true, addPath: new Set(['ipv6'] as const) },
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0043                              # length 67
      02 0000                           # UPDATE, no withdrawn routes
      002c                              # total path attribute length 44
      80 0e 22                          # MP_REACH_NLRI, length 34
        0002 01 10                      #   IPv6 unicast, next hop length 16
        fd000000000000000000000000000001  # fd00::1
        00                              #   reserved
        00000007 40 fd00000100000000    #   path 7: fd00:1::/64
      40 01 01 00                       # ORIGIN IGP
      40 02 00                          # AS_PATH empty`,
    expect: {
      type: 'update', withdrawn: [], nlri: [],
      attributes: { mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1'], nlri: [{ prefix: 'fd00:1::/64', pathId: 7 }] }, origin: 0, asPath: [] },
    },
  },
  {
    name: 'UPDATE to/from an OLD speaker: AS_TRANS + AS4_PATH + AS4_AGGREGATOR (RFC 6793 §4.2.2)',
    opts: TWO,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0056                              # length 86
      02 0000                           # UPDATE, no withdrawn routes
      003b                              # total path attribute length 59
      40 01 01 00                       # ORIGIN IGP
      40 02 08 02 03 fde9 5ba0 5ba0     # AS_PATH: SEQ 65001 AS_TRANS AS_TRANS
      40 03 04 0a000001                 # NEXT_HOP 10.0.0.1
      c0 07 06 5ba0 0a000002            # AGGREGATOR AS_TRANS 10.0.0.2
      c0 11 0e 02 03 0000fde9 fa56ea00 fa56ea01  # AS4_PATH: SEQ 65001 4200000000 4200000001
      c0 12 08 fa56ea00 0a000002        # AS4_AGGREGATOR 4200000000 10.0.0.2
      18 0a0000                         # NLRI 10.0.0.0/24`,
    expect: {
      type: 'update', withdrawn: [], nlri: [{ prefix: '10.0.0.0/24' }],
      attributes: { origin: 0, asPath: [{ type: 2, asns: [65001, 4200000000, 4200000001] }], nextHop: '10.0.0.1', aggregator: { asn: 4200000000, address: '10.0.0.2' } },
    },
  },
  {
    name: 'UPDATE from an OLD speaker that prepended itself: AS4_PATH shorter than AS_PATH (RFC 6793 §4.2.3)',
    opts: TWO,
    reencode: false,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0040                              # length 64
      02 0000                           # UPDATE, no withdrawn routes
      0025                              # total path attribute length 37
      40 01 01 00                       # ORIGIN IGP
      40 02 0a 02 04 0064 fde9 5ba0 5ba0  # AS_PATH: SEQ 100 65001 AS_TRANS AS_TRANS
      40 03 04 0a000001                 # NEXT_HOP 10.0.0.1
      c0 11 0a 02 02 fa56ea00 fa56ea01  # AS4_PATH: SEQ 4200000000 4200000001
      18 0a0000                         # NLRI 10.0.0.0/24`,
    expect: {
      type: 'update', withdrawn: [], nlri: [{ prefix: '10.0.0.0/24' }],
      attributes: { origin: 0, asPath: [{ type: 2, asns: [100, 65001, 4200000000, 4200000001] }], nextHop: '10.0.0.1' },
    },
  },
  {
    name: 'UPDATE: AGGREGATOR with a real 2-octet AS → AS4_PATH and AS4_AGGREGATOR ignored (RFC 6793 §4.2.3)',
    opts: TWO,
    reencode: false,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0048                              # length 72
      02 0000                           # UPDATE, no withdrawn routes
      0031                              # total path attribute length 49
      40 01 01 00                       # ORIGIN IGP
      40 02 06 02 02 fde9 5ba0          # AS_PATH: SEQ 65001 AS_TRANS
      40 03 04 0a000001                 # NEXT_HOP 10.0.0.1
      c0 07 06 0064 0a000002            # AGGREGATOR AS 100 10.0.0.2
      c0 11 06 02 01 fa56ea00           # AS4_PATH: SEQ 4200000000
      c0 12 08 fa56ea00 0a000002        # AS4_AGGREGATOR 4200000000 10.0.0.2`,
    expect: {
      type: 'update', withdrawn: [], nlri: [],
      attributes: { origin: 0, asPath: [{ type: 2, asns: [65001, 23456] }], nextHop: '10.0.0.1', aggregator: { asn: 100, address: '10.0.0.2' } },
    },
  },
  {
    name: 'End-of-RIB IPv4 unicast (RFC 4724 §2)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0017 02  # marker, length 23, UPDATE
               0000 0000                               # no withdrawn routes, no attributes`,
    expect: { type: 'update', withdrawn: [], nlri: [], attributes: {} },
  },
  {
    name: 'End-of-RIB IPv6 unicast (RFC 4724 §2)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 001d 02  # marker, length 29, UPDATE
               0000 0006                               # no withdrawn routes, attributes 6
               80 0f 03 0002 01                        # MP_UNREACH_NLRI IPv6 unicast, empty`,
    expect: { type: 'update', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } } },
  },
];
