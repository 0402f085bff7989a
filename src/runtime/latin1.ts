// Text from bytes without a decoder: Buffer#latin1Slice (an undocumented but long-standing
// method of Node's Buffer) turns octets straight into a flat one-byte V8 string. The NLRI
// decoder assembles every prefix's text in a scratch buffer and takes it with one call, so
// Loc-RIB keys are flat strings instead of cons strings from a template literal (one heap
// object instead of two, cheaper Map lookups; docs/benchmarks.md §1, "Where the time goes").
import { Buffer } from 'node:buffer';

export type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** A scratch buffer whose latin1Slice the caller may call directly (hot path). */
export function latin1Scratch(size: number): Latin1Buffer {
  return Buffer.allocUnsafe(size) as Latin1Buffer;
}
