// Seeded, bounded fuzz: random octets and mutations of every valid vector go through the
// Framer and decodeMessage (and decoded messages back through encodeMessage). Only
// BgpWireError may ever be thrown. Fixed seed, so a failure reproduces; crashers found
// are added to REGRESSIONS below.
import t from 'tap';
import { Buffer } from 'node:buffer';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BgpWireError, decodeMessage, encodeMessage, Framer, type DecodeOptions } from '../../../src/bgp/wire/index.js';
import { prng } from './helpers.js';
import { allVectors } from './vectors/index.js';

const ITERATIONS = 20000;
const SEED = 0x7e27;

/** Inputs that once threw something other than BgpWireError (hex). */
const REGRESSIONS: string[] = [];

const OPTS: DecodeOptions[] = [
  { fourOctetAs: true },
  { fourOctetAs: false },
  { fourOctetAs: true, addPath: new Set(['ipv4', 'ipv6'] as const), ebgp: true },
  { fourOctetAs: false, addPath: new Set(['ipv6'] as const), extendedMessage: true },
];

function mutate(rnd: () => number, src: Buffer): Buffer {
  const b = Buffer.from(src);
  const op = Math.floor(rnd() * 6);
  const at = () => 19 + Math.floor(rnd() * Math.max(1, b.length - 19));
  switch (op) {
    case 0: // bit flips in the body
      for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n && b.length > 19; i++) { const k = at(); b[k] = (b[k] ?? 0) ^ (1 << Math.floor(rnd() * 8)); }
      return b;
    case 1: { // truncate, keeping the header length consistent
      const cut = b.subarray(0, 19 + Math.floor(rnd() * (b.length - 18)));
      const out = Buffer.from(cut);
      out.writeUInt16BE(out.length, 16);
      return out;
    }
    case 2: // random byte overwrite
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n && b.length > 19; i++) b[at()] = Math.floor(rnd() * 256);
      return b;
    case 3: { // append garbage and fix the header length
      const extra = Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
      const out = Buffer.concat([b, extra]);
      out.writeUInt16BE(out.length, 16);
      return out;
    }
    case 4: // an interior 1- or 2-octet length field set to an edge value
      if (b.length > 21) { const k = at(); b[k] = [0, 1, 0x7f, 0x80, 0xfe, 0xff][Math.floor(rnd() * 6)] ?? 0; }
      return b;
    default: { // random body of random type
      const len = 19 + Math.floor(rnd() * 120);
      const out = Buffer.alloc(len);
      out.fill(0xff, 0, 16);
      out.writeUInt16BE(len, 16);
      out[18] = 1 + Math.floor(rnd() * 5);
      for (let i = 19; i < len; i++) out[i] = Math.floor(rnd() * 256);
      return out;
    }
  }
}

/** Returns a description of the first non-BgpWireError thrown, or null. */
function exercise(rnd: () => number, input: Buffer, opts: DecodeOptions): string | null {
  try {
    const f = new Framer({ maxMessageLength: opts.extendedMessage ? 65535 : 4096 });
    const cut = Math.floor(rnd() * (input.length + 1));
    const frames = [...f.push(input.subarray(0, cut)), ...f.push(input.subarray(cut))];
    for (const frame of frames) {
      const m = decodeMessage(frame, opts);
      encodeMessage(m, opts);
    }
    return null;
  } catch (err) {
    return err instanceof BgpWireError ? null : `${(err as Error)?.stack ?? String(err)}\ninput ${input.toString('hex')}`;
  }
}

t.test('regressions', async (t) => {
  for (const h of REGRESSIONS) t.equal(exercise(prng(1), Buffer.from(h, 'hex'), OPTS[0]!), null, h);
  t.pass(`${REGRESSIONS.length} regressions`);
});

/** Seeds: the hand-written vectors plus the real router captures, when present. */
function seeds(): Buffer[] {
  const out = allVectors.map((v) => v.bytes);
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'vectors', 'captured');
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.hex')).sort()) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (/^[0-9a-f]{38,}$/.test(line.trim())) out.push(Buffer.from(line.trim(), 'hex'));
    }
  }
  return out;
}

t.test(`${ITERATIONS} mutated and random messages throw only BgpWireError`, async (t) => {
  const rnd = prng(SEED);
  const corpus = seeds();
  const failures: string[] = [];
  let decoded = 0;
  for (let i = 0; i < ITERATIONS && failures.length < 5; i++) {
    const seed = corpus[Math.floor(rnd() * corpus.length)]!;
    const input = rnd() < 0.05 ? Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))) : mutate(rnd, seed);
    const opts = OPTS[Math.floor(rnd() * OPTS.length)]!;
    const r = exercise(rnd, input, opts);
    if (r) failures.push(r);
    else decoded++;
  }
  t.same(failures, [], 'no other exception types');
  t.equal(decoded, ITERATIONS, `${corpus.length} seeds`);
});
