// NOTIFICATION (one per error code), KEEPALIVE and ROUTE-REFRESH vectors.
import { hex } from '../helpers.js';
import { FOUR, type Vector } from './types.js';

export const miscVectors: Vector[] = [
  {
    name: 'KEEPALIVE',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0013 04  # marker, length 19, KEEPALIVE`,
    expect: { type: 'keepalive' },
  },
  {
    name: 'NOTIFICATION 1/2 Message Header Error: Bad Message Length, data = length field',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0017 03  # marker, length 23, NOTIFICATION
               01 02                                   # code 1, subcode 2
               1001                                    # data: the bad length 4097`,
    expect: { type: 'notification', code: 1, subcode: 2, data: hex`1001` },
  },
  {
    name: 'NOTIFICATION 2/2 OPEN Message Error: Bad Peer AS',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0017 03  # marker, length 23, NOTIFICATION
               02 02                                   # code 2, subcode 2
               fde9                                    # data: the AS received`,
    expect: { type: 'notification', code: 2, subcode: 2, data: hex`fde9` },
  },
  {
    name: 'NOTIFICATION 3/11 UPDATE Message Error: Malformed AS_PATH',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0015 03  # marker, length 21, NOTIFICATION
               03 0b                                   # code 3, subcode 11, no data`,
    expect: { type: 'notification', code: 3, subcode: 11, data: hex`` },
  },
  {
    name: 'NOTIFICATION 4/0 Hold timer expired',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0015 03  # marker, length 21, NOTIFICATION
               04 00                                   # code 4, subcode 0`,
    expect: { type: 'notification', code: 4, subcode: 0, data: hex`` },
  },
  {
    name: 'NOTIFICATION 5/3 FSM Error in Established (RFC 6608)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0015 03 05 03  # header, code 5, subcode 3`,
    expect: { type: 'notification', code: 5, subcode: 3, data: hex`` },
  },
  {
    name: 'NOTIFICATION 6/2 Cease: Administrative shutdown with shutdown communication (RFC 8203)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 001a 03  # marker, length 26, NOTIFICATION
               06 02                                   # Cease, Administrative Shutdown
               04 62796521                             # communication: length 4, "bye!"`,
    expect: { type: 'notification', code: 6, subcode: 2, data: hex`0462796521` },
  },
  {
    name: 'NOTIFICATION 7/1 ROUTE-REFRESH Message Error: Invalid Message Length (RFC 7313)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0015 03 07 01  # header, code 7, subcode 1`,
    expect: { type: 'notification', code: 7, subcode: 1, data: hex`` },
  },
  {
    name: 'ROUTE-REFRESH IPv4 unicast (RFC 2918)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0017 05  # marker, length 23, ROUTE-REFRESH
               0001 00 01                              # AFI 1, reserved 0, SAFI 1`,
    expect: { type: 'routeRefresh', afi: 1, safi: 1, subtype: 0 },
  },
  {
    name: 'ROUTE-REFRESH BoRR IPv6 unicast (RFC 7313)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0017 05  # marker, length 23, ROUTE-REFRESH
               0002 01 01                              # AFI 2, subtype 1 BoRR, SAFI 1`,
    expect: { type: 'routeRefresh', afi: 2, safi: 1, subtype: 1 },
  },
  {
    name: 'ROUTE-REFRESH EoRR IPv4 unicast (RFC 7313)',
    opts: FOUR,
    bytes: hex`ffffffffffffffffffffffffffffffff 0017 05  # marker, length 23, ROUTE-REFRESH
               0001 02 01                              # AFI 1, subtype 2 EoRR, SAFI 1`,
    expect: { type: 'routeRefresh', afi: 1, safi: 1, subtype: 2 },
  },
];
