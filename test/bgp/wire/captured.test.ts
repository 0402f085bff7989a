// Real router captures (test/bgp/wire/vectors/captured/*.hex: BIRD 2, GoBGP, FRR, recorded by
// capture.ts in a lab namespace) through the Framer and the decoder. The decode options come
// from the recorder's OPEN in each file (what it advertised decides 4-octet AS and ADD-PATH).
import t from 'tap';
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  afiSafiToFamily, BgpWireError, decodeMessage, encodeMessage, endOfRib, isEndOfRib, type DecodeOptions, type OpenMessage, type UpdateMessage,
} from '../../../src/bgp/wire/index.js';
import type { Family } from '../../../src/net/prefix.js';
import { frameIn, splits } from './helpers.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'vectors', 'captured');
const files = readdirSync(DIR).filter((f) => f.endsWith('.hex')).sort();

function parse(text: string): { messages: Buffer[]; recorderOpen?: Buffer } {
  const messages: Buffer[] = [];
  let recorderOpen: Buffer | undefined;
  for (const line of text.split('\n')) {
    const m = /^# recorder OPEN hex: ([0-9a-f]+)/.exec(line);
    if (m) recorderOpen = Buffer.from(m[1]!, 'hex');
    if (line.startsWith('#') || line.trim() === '') continue;
    messages.push(Buffer.from(line.trim(), 'hex'));
  }
  return recorderOpen ? { messages, recorderOpen } : { messages };
}

/** What the daemon may use toward the recorder, given the recorder's OPEN. */
function optsFrom(open: Buffer | undefined): DecodeOptions {
  if (!open || openError(open)) return { fourOctetAs: true };
  const o = decodeMessage(open, { fourOctetAs: true }) as OpenMessage;
  const addPath = new Set<Family>();
  for (const c of o.capabilities) {
    if (c.kind !== 'addPath') continue;
    for (const f of c.families) {
      const fam = afiSafiToFamily(f.afi, f.safi);
      if (fam && f.mode & 1) addPath.add(fam); // the recorder can receive → the daemon may send path ids
    }
  }
  return { fourOctetAs: o.capabilities.some((c) => c.kind === 'fourOctetAs'), addPath };
}

/** The error tern raises on the recorder's OPEN, if any (the notification scenarios send a bad one). */
function openError(open: Buffer): BgpWireError | null {
  try {
    decodeMessage(open, { fourOctetAs: true });
    return null;
  } catch (err) {
    if (err instanceof BgpWireError) return err;
    throw err;
  }
}

t.test('captures are present', async (t) => {
  t.ok(files.length > 0, `${files.length} capture files`);
});

for (const file of files) {
  t.test(file, async (t) => {
    const { messages, recorderOpen } = parse(readFileSync(join(DIR, file), 'utf8'));
    const opts = optsFrom(recorderOpen);
    t.ok(messages.length > 0, 'has messages');
    for (const [i, bytes] of messages.entries()) {
      const m = decodeMessage(bytes, opts);
      if (m.type === 'update') {
        t.equal(m.errors, undefined, `message ${i + 1}: UPDATE decodes without RFC 7606 errors`);
        const eor = isEndOfRib(m);
        if (eor) t.equal(bytes.toString('hex'), endOfRib(eor).toString('hex'), `message ${i + 1}: End-of-RIB ${eor} identical to ours`);
        t.same(decodeMessage(encodeMessage(m, opts), opts), m, `message ${i + 1}: re-encodes to the same UPDATE`);
      } else {
        t.same(decodeMessage(encodeMessage(m, opts), opts), m, `message ${i + 1}: ${m.type} round trip`);
      }
    }
    const bad = recorderOpen && openError(recorderOpen);
    if (bad) {
      // The daemon rejected the recorder's OPEN: tern must reject it with the same NOTIFICATION.
      const n = messages.map((b) => decodeMessage(b, opts)).find((m) => m.type === 'notification');
      t.same(n && [n.code, n.subcode], [bad.code, bad.subcode], `daemon and tern agree: ${bad.code}/${bad.subcode}`);
    }
    const all = Buffer.concat(messages);
    const want = messages.map((b) => b.toString('hex'));
    let mismatches = 0;
    for (const pieces of splits(all)) if (JSON.stringify(frameIn(pieces)) !== JSON.stringify(want)) mismatches++;
    t.equal(mismatches, 0, `all ${messages.length} messages framed identically at ${all.length + 1} splits`);
  });
}

function load(file: string): { msgs: ReturnType<typeof decodeMessage>[] } | null {
  if (!files.includes(file)) return null;
  const { messages, recorderOpen } = parse(readFileSync(join(DIR, file), 'utf8'));
  const opts = optsFrom(recorderOpen);
  return { msgs: messages.map((b) => decodeMessage(b, opts)) };
}

const absent = (f: string) => (files.includes(f) ? false : `${f} absent`);

t.test('FRR toward a 2-octet peer: AS_TRANS + AS4_PATH merged back to 4200000001', { skip: absent('frr-8.4-update-ipv4-no-as4.hex') }, async (t) => {
  const u = load('frr-8.4-update-ipv4-no-as4.hex')!.msgs[0] as UpdateMessage;
  t.same(u.attributes.asPath, [{ type: 2, asns: [4200000001] }]);
  t.ok(u.nlri.length > 0);
});

t.test('BIRD ADD-PATH capture carries path identifiers', { skip: absent('bird-2.0.12-update-ipv4-addpath.hex') }, async (t) => {
  const u = load('bird-2.0.12-update-ipv4-addpath.hex')!.msgs[0] as UpdateMessage;
  t.ok(u.nlri.length > 0 && u.nlri.every((n) => typeof n.pathId === 'number'));
});
