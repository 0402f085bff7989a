// Test helpers for the wire codec: commented hex, header building, split feeding.
import { Buffer } from 'node:buffer';
import { BgpWireError, Framer } from '../../../src/bgp/wire/index.js';

/**
 * Hex with comments: `#` to end of line is ignored, as is all whitespace.
 *   hex`ffff...ff  # marker`
 */
export function hex(strings: TemplateStringsArray | string, ...values: unknown[]): Buffer {
  const text = typeof strings === 'string' ? strings : String.raw({ raw: strings }, ...values);
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${clean}`);
  return Buffer.from(clean, 'hex');
}

export const MARKER = 'ff'.repeat(16);

/** A message from its body: marker, computed length, type. */
export function msg(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + body.length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

/** An UPDATE from commented hex of its withdrawn routes, attributes and NLRI (lengths computed). */
export function update(parts: { withdrawn?: Buffer; attrs?: Buffer; nlri?: Buffer }): Buffer {
  const w = parts.withdrawn ?? Buffer.alloc(0);
  const a = parts.attrs ?? Buffer.alloc(0);
  const n = parts.nlri ?? Buffer.alloc(0);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(w.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(a.length);
  return msg(2, Buffer.concat([wl, w, al, a, n]));
}

/** Runs fn and returns the BgpWireError it throws (or the non-wire error / undefined). */
export function catchWire(fn: () => unknown): BgpWireError | unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

export function errShape(err: unknown): { code: number; subcode: number; action: string } | string {
  if (err instanceof BgpWireError) return { code: err.code, subcode: err.subcode, action: err.action };
  return `not a BgpWireError: ${String(err)}`;
}

/** Feeds `data` to a fresh Framer in the given pieces; returns the frames (as hex) or the error. */
export function frameIn(pieces: Buffer[], maxMessageLength?: number): string[] | BgpWireError {
  const f = new Framer(maxMessageLength === undefined ? {} : { maxMessageLength });
  const out: string[] = [];
  try {
    for (const p of pieces) for (const m of f.push(p)) out.push(m.toString('hex'));
  } catch (err) {
    if (err instanceof BgpWireError) return err;
    throw err;
  }
  return out;
}

/** Every split of `data` into two pieces (including empty ends). */
export function* splits(data: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= data.length; i++) yield [data.subarray(0, i), data.subarray(i)];
}

/** Deterministic PRNG (mulberry32) for the fuzz test. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
