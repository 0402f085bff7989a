// List-valued attributes: COMMUNITIES (RFC 1997), CLUSTER_LIST (RFC 4456 §8),
// EXTENDED_COMMUNITIES (RFC 4360, opaque 8 octets), LARGE_COMMUNITY (RFC 8092).
// Each is malformed when its length is not a non-zero multiple of the element size
// (RFC 7606 §7.8, §7.10, §7.14; RFC 8092 §6) → treat-as-withdraw.
import { Buffer } from 'node:buffer';
import { AttrType } from '../constants.js';
import { ErrorAction } from '../errors.js';
import { formatIpv4 } from '../../../net/prefix.js';
import { ipv4Bytes } from '../nlri.js';
import { type AttrCodec, expectLength, OPTIONAL, OPTIONAL_TRANSITIVE } from './codec.js';

function multipleOf(v: Buffer, size: number, name: string): void {
  expectLength(v, v.length > 0 && v.length % size === 0, name);
}

export const communities: AttrCodec = {
  type: AttrType.Communities,
  name: 'COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  onError: ErrorAction.Withdraw,
  decode(v, _ctx, d) {
    multipleOf(v, 4, 'COMMUNITIES');
    const out: number[] = [];
    for (let i = 0; i < v.length; i += 4) out.push(v.readUInt32BE(i));
    d.communities = out;
  },
  encode(a) {
    const c = a.communities;
    if (!c || c.length === 0) return undefined;
    const b = Buffer.allocUnsafe(c.length * 4);
    c.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
    return b;
  },
};

export const clusterList: AttrCodec = {
  type: AttrType.ClusterList,
  name: 'CLUSTER_LIST',
  flags: OPTIONAL,
  onError: ErrorAction.Withdraw,
  decode(v, _ctx, d) {
    multipleOf(v, 4, 'CLUSTER_LIST');
    const out: string[] = [];
    for (let i = 0; i < v.length; i += 4) out.push(formatIpv4(v, i));
    d.clusterList = out;
  },
  encode(a) {
    const c = a.clusterList;
    if (!c || c.length === 0) return undefined;
    return Buffer.concat(c.map(ipv4Bytes));
  },
};

export const extendedCommunities: AttrCodec = {
  type: AttrType.ExtendedCommunities,
  name: 'EXTENDED_COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  onError: ErrorAction.Withdraw,
  decode(v, _ctx, d) {
    multipleOf(v, 8, 'EXTENDED_COMMUNITIES');
    const out: Buffer[] = [];
    for (let i = 0; i < v.length; i += 8) out.push(Buffer.from(v.subarray(i, i + 8)));
    d.extendedCommunities = out;
  },
  encode(a) {
    const c = a.extendedCommunities;
    if (!c || c.length === 0) return undefined;
    return Buffer.concat(c.map((x) => x.subarray(0, 8)));
  },
};

export const largeCommunity: AttrCodec = {
  type: AttrType.LargeCommunity,
  name: 'LARGE_COMMUNITY',
  flags: OPTIONAL_TRANSITIVE,
  onError: ErrorAction.Withdraw,
  decode(v, _ctx, d) {
    multipleOf(v, 12, 'LARGE_COMMUNITY');
    const out: (readonly [number, number, number])[] = [];
    for (let i = 0; i < v.length; i += 12) out.push([v.readUInt32BE(i), v.readUInt32BE(i + 4), v.readUInt32BE(i + 8)]);
    d.largeCommunities = out;
  },
  encode(a) {
    const c = a.largeCommunities;
    if (!c || c.length === 0) return undefined;
    const b = Buffer.allocUnsafe(c.length * 12);
    c.forEach(([g, l1, l2], i) => {
      b.writeUInt32BE(g >>> 0, i * 12);
      b.writeUInt32BE(l1 >>> 0, i * 12 + 4);
      b.writeUInt32BE(l2 >>> 0, i * 12 + 8);
    });
    return b;
  },
};
