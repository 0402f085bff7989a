// Capabilities (RFC 5492 §4): code (1), length (1), value. One decoder/encoder per code.
//
//  Multiprotocol (1, RFC 4760 §8)       AFI (2) | reserved (1) | SAFI (1)
//  Route Refresh (2, RFC 2918; 128 old Cisco), Enhanced RR (70, RFC 7313), Extended
//  Message (6, RFC 8654): empty
//  Graceful Restart (64, RFC 4724 §3)   R|N|rsv (4 bits) Restart Time (12 bits), then per
//                                       family AFI (2) | SAFI (1) | flags (F = 0x80)
//  4-octet AS (65, RFC 6793 §3)         AS (4)
//  ADD-PATH (69, RFC 7911 §4)           per family AFI (2) | SAFI (1) | Send/Receive (1)
import { Buffer } from 'node:buffer';
import { CapabilityCode, NotifCode, OpenSubcode } from './constants.js';
import { BgpWireError } from './errors.js';
import type { Capability } from './types.js';

/** The pre-standard Cisco route refresh code, accepted as routeRefresh. */
const CISCO_ROUTE_REFRESH = 128;

function bad(code: number, why: string, data: Buffer): never {
  throw new BgpWireError(NotifCode.OpenMessageError, OpenSubcode.Unspecific, `capability ${code}: ${why}`, Buffer.from(data));
}

export function decodeCapability(code: number, v: Buffer): Capability {
  const need = (ok: boolean): void => {
    if (!ok) bad(code, `bad length ${v.length}`, v);
  };
  switch (code) {
    case CapabilityCode.Multiprotocol:
      need(v.length === 4);
      return { kind: 'multiprotocol', afi: v.readUInt16BE(0), safi: v[3] ?? 0 };
    case CapabilityCode.RouteRefresh:
    case CISCO_ROUTE_REFRESH:
      return { kind: 'routeRefresh' };
    case CapabilityCode.EnhancedRouteRefresh:
      return { kind: 'enhancedRouteRefresh' };
    case CapabilityCode.ExtendedMessage:
      return { kind: 'extendedMessage' };
    case CapabilityCode.FourOctetAs:
      need(v.length === 4);
      return { kind: 'fourOctetAs', asn: v.readUInt32BE(0) };
    case CapabilityCode.GracefulRestart: {
      need(v.length >= 2 && (v.length - 2) % 4 === 0);
      const word = v.readUInt16BE(0);
      const families = [];
      for (let i = 2; i < v.length; i += 4) families.push({ afi: v.readUInt16BE(i), safi: v[i + 2] ?? 0, forwardingPreserved: ((v[i + 3] ?? 0) & 0x80) !== 0 });
      return { kind: 'gracefulRestart', restarting: (word & 0x8000) !== 0, notification: (word & 0x4000) !== 0, restartTime: word & 0x0fff, families };
    }
    case CapabilityCode.AddPath: {
      need(v.length % 4 === 0);
      const families = [];
      for (let i = 0; i < v.length; i += 4) {
        const mode = v[i + 3] ?? 0;
        // RFC 7911 §4: any other Send/Receive value → the capability is not understood: ignored.
        if (mode < 1 || mode > 3) return { kind: 'unknown', code, data: Buffer.from(v) };
        families.push({ afi: v.readUInt16BE(i), safi: v[i + 2] ?? 0, mode: mode as 1 | 2 | 3 });
      }
      return { kind: 'addPath', families };
    }
    default:
      return { kind: 'unknown', code, data: Buffer.from(v) };
  }
}

function cap(code: number, value: Buffer): Buffer {
  if (value.length > 255) throw new BgpWireError(NotifCode.OpenMessageError, OpenSubcode.Unspecific, `cannot encode: capability ${code} too long`);
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

export function encodeCapability(c: Capability): Buffer {
  switch (c.kind) {
    case 'multiprotocol': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(c.afi, 0);
      b[3] = c.safi;
      return cap(CapabilityCode.Multiprotocol, b);
    }
    case 'routeRefresh':
      return cap(CapabilityCode.RouteRefresh, Buffer.alloc(0));
    case 'enhancedRouteRefresh':
      return cap(CapabilityCode.EnhancedRouteRefresh, Buffer.alloc(0));
    case 'extendedMessage':
      return cap(CapabilityCode.ExtendedMessage, Buffer.alloc(0));
    case 'fourOctetAs': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(c.asn >>> 0, 0);
      return cap(CapabilityCode.FourOctetAs, b);
    }
    case 'gracefulRestart': {
      const b = Buffer.alloc(2 + 4 * c.families.length);
      b.writeUInt16BE((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | (c.restartTime & 0x0fff), 0);
      c.families.forEach((f, i) => {
        b.writeUInt16BE(f.afi, 2 + i * 4);
        b[4 + i * 4] = f.safi;
        b[5 + i * 4] = f.forwardingPreserved ? 0x80 : 0;
      });
      return cap(CapabilityCode.GracefulRestart, b);
    }
    case 'addPath': {
      const b = Buffer.alloc(4 * c.families.length);
      c.families.forEach((f, i) => {
        b.writeUInt16BE(f.afi, i * 4);
        b[2 + i * 4] = f.safi;
        b[3 + i * 4] = f.mode;
      });
      return cap(CapabilityCode.AddPath, b);
    }
    case 'unknown':
      return cap(c.code, c.data);
  }
}
