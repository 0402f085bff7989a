// OPEN vectors (RFC 4271 §4.2, RFC 5492, RFC 9072), one per capability.
import { Buffer } from 'node:buffer';
import type { Capability } from '../../../../src/bgp/wire/index.js';
import { hex } from '../helpers.js';
import { FOUR, type Vector } from './types.js';

/** OPEN for AS 65001, hold 90, id 192.0.2.1 with one Capabilities parameter holding `caps`. */
function openWith(caps: Buffer): Buffer {
  const body = Buffer.concat([
    hex`04          # version 4
        fde9        # my AS 65001
        005a        # hold time 90
        c0000201    # BGP identifier 192.0.2.1`,
    Buffer.from([caps.length + 2]), // optional parameters length
    Buffer.from([2, caps.length]), // parameter type 2 (capabilities), length
    caps,
  ]);
  const head = hex`ffffffffffffffffffffffffffffffff 0000 01`;
  head.writeUInt16BE(19 + body.length, 16);
  return Buffer.concat([head, body]);
}

function capVector(name: string, caps: Buffer, capabilities: Capability[], reencode = true): Vector {
  return { name, bytes: openWith(caps), opts: FOUR, reencode, expect: { type: 'open', version: 4, myAs: 65001, holdTime: 90, bgpId: '192.0.2.1', capabilities } };
}

export const openVectors: Vector[] = [
  {
    name: 'OPEN, BIRD-like: multiprotocol IPv4 + 4-octet AS',
    opts: FOUR,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      002b                              # length 43
      01                                # type OPEN
      04                                # version 4
      fde9                              # my AS 65001
      00f0                              # hold time 240
      0a000001                          # BGP identifier 10.0.0.1
      0e                                # optional parameters length 14
      02 0c                             # parameter: capabilities, length 12
      01 04 0001 00 01                  # multiprotocol: AFI 1 IPv4, reserved, SAFI 1 unicast
      41 04 0000fde9                    # 4-octet AS: 65001`,
    expect: {
      type: 'open', version: 4, myAs: 65001, holdTime: 240, bgpId: '10.0.0.1',
      capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'fourOctetAs', asn: 65001 }],
    },
  },
  {
    name: 'OPEN without optional parameters',
    opts: FOUR,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      001d                              # length 29
      01                                # type OPEN
      04 fde9 00b4 0a000001             # version 4, AS 65001, hold 180, id 10.0.0.1
      00                                # no optional parameters`,
    expect: { type: 'open', version: 4, myAs: 65001, holdTime: 180, bgpId: '10.0.0.1', capabilities: [] },
  },
  capVector('OPEN: multiprotocol IPv6 unicast', hex`01 04 0002 00 01  # MP: AFI 2 IPv6, SAFI 1`, [{ kind: 'multiprotocol', afi: 2, safi: 1 }]),
  capVector('OPEN: route refresh (2)', hex`02 00  # route refresh, empty`, [{ kind: 'routeRefresh' }]),
  capVector('OPEN: old Cisco route refresh (128)', hex`80 00  # pre-standard route refresh`, [{ kind: 'routeRefresh' }], false),
  capVector('OPEN: enhanced route refresh (70)', hex`46 00`, [{ kind: 'enhancedRouteRefresh' }]),
  capVector('OPEN: extended message (6)', hex`06 00`, [{ kind: 'extendedMessage' }]),
  capVector('OPEN: 4-octet AS 4200000000 (65)', hex`41 04 fa56ea00  # AS 4200000000`, [{ kind: 'fourOctetAs', asn: 4200000000 }]),
  capVector(
    'OPEN: graceful restart, R bit, 120 s, IPv4 F bit (64)',
    hex`40 06      # graceful restart, length 6
        8078       # R=1 N=0, restart time 120
        0001 01 80 # AFI 1, SAFI 1, F=1`,
    [{ kind: 'gracefulRestart', restarting: true, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] }],
  ),
  capVector(
    'OPEN: graceful restart, R+N bits, 4095 s, two families',
    hex`40 0a      # graceful restart, length 10
        cfff       # R=1 N=1, restart time 4095
        0001 01 80 # IPv4 unicast, F=1
        0002 01 00 # IPv6 unicast, F=0`,
    [{ kind: 'gracefulRestart', restarting: true, notification: true, restartTime: 4095, families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 2, safi: 1, forwardingPreserved: false }] }],
  ),
  capVector('OPEN: graceful restart, no families (helper only)', hex`40 02 0078  # R=0 N=0, 120 s`, [{ kind: 'gracefulRestart', restarting: false, notification: false, restartTime: 120, families: [] }]),
  capVector(
    'OPEN: ADD-PATH (69)',
    hex`45 08      # ADD-PATH, length 8
        0001 01 03 # IPv4 unicast, send+receive
        0002 01 01 # IPv6 unicast, receive`,
    [{ kind: 'addPath', families: [{ afi: 1, safi: 1, mode: 3 }, { afi: 2, safi: 1, mode: 1 }] }],
  ),
  capVector('OPEN: unknown capability (FQDN, 73)', hex`49 05 03 616263 00  # FQDN: hostname "abc", empty domain`, [{ kind: 'unknown', code: 73, data: hex`0361626300` }]),
  {
    name: 'OPEN: RFC 9072 extended optional parameters length',
    opts: FOUR,
    reencode: false,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0029                              # length 41
      01                                # type OPEN
      04 fde9 005a c0000201             # version, AS 65001, hold 90, id 192.0.2.1
      ff                                # non-extended length 255
      ff                                # non-extended type 255: extended form follows
      0009                              # extended optional parameters length 9
      02 0006                           # capabilities, 2-octet length 6
      01 04 0001 00 01                  # MP IPv4 unicast`,
    expect: { type: 'open', version: 4, myAs: 65001, holdTime: 90, bgpId: '192.0.2.1', capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }] },
  },
  {
    name: 'OPEN: GoBGP-style, one capability per parameter',
    opts: FOUR,
    reencode: false,
    bytes: hex`
      ffffffffffffffffffffffffffffffff  # marker
      0031                              # length 49
      01                                # type OPEN
      04 5ba0 005a c0000201             # version, AS_TRANS, hold 90, id 192.0.2.1
      14                                # optional parameters length 20
      02 06 01 04 0001 00 01            # param: MP IPv4 unicast
      02 02 02 00                       # param: route refresh
      02 06 41 04 fa56ea00              # param: 4-octet AS 4200000000`,
    expect: {
      type: 'open', version: 4, myAs: 23456, holdTime: 90, bgpId: '192.0.2.1',
      capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'routeRefresh' }, { kind: 'fourOctetAs', asn: 4200000000 }],
    },
  },
];
