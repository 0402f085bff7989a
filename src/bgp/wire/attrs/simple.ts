// The small fixed-size attributes: ORIGIN, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF,
// ATOMIC_AGGREGATE, ORIGINATOR_ID (RFC 4271 §5.1, RFC 4456 §8), with RFC 7606 §7 actions.
import { Buffer } from 'node:buffer';
import { AttrType, UpdateSubcode } from '../constants.js';
import { ErrorAction } from '../errors.js';
import { formatIpv4 } from '../../../net/prefix.js';
import { ipv4Bytes } from '../nlri.js';
import { type AttrCodec, expectLength, malformed, OPTIONAL, u32, WELL_KNOWN } from './codec.js';

export const origin: AttrCodec = {
  type: AttrType.Origin,
  name: 'ORIGIN',
  flags: WELL_KNOWN,
  onError: ErrorAction.Withdraw, // RFC 7606 §7.1
  decode(v, _ctx, d) {
    expectLength(v, v.length === 1, 'ORIGIN');
    const o = v[0] ?? 0;
    if (o > 2) malformed(UpdateSubcode.InvalidOriginAttribute, `ORIGIN value ${o}`);
    d.origin = o as 0 | 1 | 2;
  },
  encode: (a) => (a.origin === undefined ? undefined : Buffer.from([a.origin])),
};

export const nextHop: AttrCodec = {
  type: AttrType.NextHop,
  name: 'NEXT_HOP',
  flags: WELL_KNOWN,
  onError: ErrorAction.Withdraw, // RFC 7606 §7.3
  decode(v, _ctx, d) {
    expectLength(v, v.length === 4, 'NEXT_HOP');
    d.nextHop = formatIpv4(v);
  },
  encode: (a) => (a.nextHop === undefined ? undefined : ipv4Bytes(a.nextHop)),
};

export const med: AttrCodec = {
  type: AttrType.MultiExitDisc,
  name: 'MULTI_EXIT_DISC',
  flags: OPTIONAL,
  onError: ErrorAction.Withdraw, // RFC 7606 §7.4
  decode(v, _ctx, d) {
    expectLength(v, v.length === 4, 'MULTI_EXIT_DISC');
    d.med = v.readUInt32BE(0);
  },
  encode: (a) => (a.med === undefined ? undefined : u32(a.med)),
};

export const localPref: AttrCodec = {
  type: AttrType.LocalPref,
  name: 'LOCAL_PREF',
  flags: WELL_KNOWN,
  onError: ErrorAction.Withdraw, // RFC 7606 §7.5 (from iBGP; from eBGP it is dropped before decode)
  decode(v, _ctx, d) {
    expectLength(v, v.length === 4, 'LOCAL_PREF');
    d.localPref = v.readUInt32BE(0);
  },
  encode: (a) => (a.localPref === undefined ? undefined : u32(a.localPref)),
};

export const atomicAggregate: AttrCodec = {
  type: AttrType.AtomicAggregate,
  name: 'ATOMIC_AGGREGATE',
  flags: WELL_KNOWN,
  onError: ErrorAction.Discard, // RFC 7606 §7.6
  decode(v, _ctx, d) {
    expectLength(v, v.length === 0, 'ATOMIC_AGGREGATE');
    d.atomicAggregate = true;
  },
  encode: (a) => (a.atomicAggregate ? Buffer.alloc(0) : undefined),
};

export const originatorId: AttrCodec = {
  type: AttrType.OriginatorId,
  name: 'ORIGINATOR_ID',
  flags: OPTIONAL,
  onError: ErrorAction.Withdraw, // RFC 7606 §7.9
  decode(v, _ctx, d) {
    expectLength(v, v.length === 4, 'ORIGINATOR_ID');
    d.originatorId = formatIpv4(v);
  },
  encode: (a) => (a.originatorId === undefined ? undefined : ipv4Bytes(a.originatorId)),
};
