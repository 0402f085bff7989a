// The contract every path attribute codec follows (BIRD attrs.c bgp_attr_table hooks).
//
// decode(value, ctx, draft)
//   - `value` is exactly the attribute's value octets (header already parsed, length
//     already known to fit the attribute list). Views of the message: copy what you keep.
//   - On a malformed value, call `malformed(subcode, why)`; the registry turns it into a
//     BgpWireError with this codec's `onError` action (RFC 7606 §3) and the attribute as data.
//   - Writes only its own fields of `draft`.
// encode(attrs, opts)
//   - Returns the value octets to emit, or undefined when the attribute is absent.
//   - Header (flags, type, length, Extended Length bit) is written by the registry.
import { Buffer } from 'node:buffer';
import { AttrFlag, NotifCode, UpdateSubcode } from '../constants.js';
import { BgpWireError, type ErrorAction } from '../errors.js';
import type { Aggregator, AsPathSegment, DecodeOptions, EncodeOptions, PathAttributes } from '../types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** PathAttributes while being decoded, plus the RFC 6793 attributes merged away at the end. */
export interface DraftAttributes extends Mutable<PathAttributes> {
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
}

export interface AttrCodec {
  readonly type: number;
  readonly name: string;
  /** Expected Optional and Transitive bits (RFC 4271 §5, RFC 7606 §3 (c)). */
  readonly flags: number;
  /** RFC 7606 action when the attribute is malformed or its flags are wrong. */
  readonly onError: ErrorAction;
  decode(value: Buffer, ctx: DecodeOptions, draft: DraftAttributes): void;
  encode?(attrs: PathAttributes, opts: EncodeOptions): Buffer | undefined;
}

export const WELL_KNOWN = AttrFlag.Transitive;
export const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
export const OPTIONAL = AttrFlag.Optional;

/** Thrown by a codec; the registry re-wraps it with the codec's action and the attribute octets. */
export function malformed(subcode: number, why: string): never {
  throw new BgpWireError(NotifCode.UpdateMessageError, subcode, why);
}

/** Length check used by most fixed-size attributes: 3/5 Attribute Length Error (RFC 4271 §6.3). */
export function expectLength(value: Buffer, ok: boolean, name: string): void {
  if (!ok) malformed(UpdateSubcode.AttributeLengthError, `${name}: bad length ${value.length}`);
}

/** Writes an attribute header + value, choosing the Extended Length bit (RFC 4271 §4.3). */
export function attribute(flags: number, type: number, value: Buffer): Buffer {
  const ext = value.length > 255;
  const head = ext ? 4 : 3;
  const out = Buffer.allocUnsafe(head + value.length);
  out[0] = (flags & ~AttrFlag.ExtendedLength & 0xff) | (ext ? AttrFlag.ExtendedLength : 0);
  out[1] = type;
  if (ext) out.writeUInt16BE(value.length, 2);
  else out[2] = value.length;
  value.copy(out, head);
  return out;
}

export function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}
