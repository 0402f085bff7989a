// A wire test vector: commented hex, the options it is decoded with, the expected message.
import type { Buffer } from 'node:buffer';
import type { BgpMessage, DecodeOptions, EncodeOptions } from '../../../../src/bgp/wire/index.js';

export interface Vector {
  readonly name: string;
  readonly bytes: Buffer;
  readonly opts: DecodeOptions & EncodeOptions;
  readonly expect: BgpMessage;
  /** encodeMessage(expect, opts) reproduces `bytes` exactly (default true). */
  readonly reencode?: boolean;
}

export const FOUR = { fourOctetAs: true } as const;
export const TWO = { fourOctetAs: false } as const;
