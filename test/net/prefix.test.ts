// The hand-written fast paths of src/net/prefix.ts against the validating path through
// `ip-address` (the reference): same acceptance, same bytes, same canonical text.
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import {
  AddressError, canonicalAddress, canonicalPrefix, formatAddress, formatPrefix, maskBytes, maxLength, parseAddress,
  parseAddressValidated, parseIpv4Prefix, parsePrefix, type ParsedPrefix,
} from '../../src/net/prefix.js';

/** parsePrefix as it was before the fast path, on the validating address parser. */
function referencePrefix(text: string, strict = false): ParsedPrefix {
  const tt = text.trim();
  const slash = tt.indexOf('/');
  if (slash < 0) throw new AddressError(`"${text}" has no prefix length`);
  const lenText = tt.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new AddressError(`"${text}" has a bad prefix length`);
  const { family, bytes } = parseAddressValidated(tt.slice(0, slash));
  const length = Number(lenText);
  if (length > maxLength(family)) throw new AddressError(`"${text}": /${length} is longer than ${maxLength(family)} bits`);
  const masked = maskBytes(Uint8Array.from(bytes), length);
  if (strict && masked.some((b, i) => b !== bytes[i])) throw new AddressError(`"${text}" has host bits set`);
  return { family, bytes: masked, length };
}

function outcome<T>(fn: () => T): { ok: T } | { error: string } {
  try { return { ok: fn() }; } catch (e) { return { error: e instanceof AddressError ? e.message : `not an AddressError: ${String(e)}` }; }
}

const show = (o: { ok: unknown } | { error: string }): unknown => ('ok' in o ? JSON.parse(JSON.stringify(o.ok, (_k, v) => (v instanceof Uint8Array ? [...v] : v))) : o);

/** Mismatches between the fast and the reference path, as readable lines (none expected). */
const mismatches: string[] = [];
function agree(what: string, text: string, fast: unknown, ref: unknown): void {
  if (!isDeepStrictEqual(fast, ref)) mismatches.push(`${what} ${JSON.stringify(text)}: ${JSON.stringify(fast)} vs ${JSON.stringify(ref)}`);
}

function checkAddress(text: string): void {
  agree('address', text, show(outcome(() => parseAddress(text))), show(outcome(() => parseAddressValidated(text))));
  const c = outcome(() => canonicalAddress(text));
  const cRef = outcome(() => { const a = parseAddressValidated(text); return formatAddress(a.family, a.bytes); });
  agree('canonical address', text, c, cRef);
}

function checkPrefix(text: string): void {
  for (const strict of [false, true]) {
    agree(`prefix strict=${strict}`, text, show(outcome(() => parsePrefix(text, { strict }))), show(outcome(() => referencePrefix(text, strict))));
  }
  const c = outcome(() => canonicalPrefix(text));
  const cRef = outcome(() => { const p = referencePrefix(text); return formatPrefix(p.family, p.bytes, p.length); });
  agree('canonical prefix', text, c, cRef);
  // the allocation-free IPv4 form: the same address and length for plain text (no blanks), else -1
  const v4 = parseIpv4Prefix(text);
  const ref = outcome(() => referencePrefix(text));
  const want = 'ok' in ref && ref.ok.family === 'ipv4' && 'ok' in cRef && !/\s/.test(text)
    ? Buffer.from(ref.ok.bytes).readUInt32BE(0) * 64 + ref.ok.length : -1;
  agree('ipv4 number', text, v4, want);
}

// a deterministic generator (no flaky seeds)
let seed = 0x2545f491;
const rnd = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return ((seed >>> 0) % n); };
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;

function randomIpv4(): string {
  const octet = (): string => pick(['0', '1', '9', '10', '99', '100', '199', '200', '249', '250', '255', '256', '300', '01', '007', String(rnd(256))]);
  const n = pick([4, 4, 4, 4, 3, 5]);
  return Array.from({ length: n }, octet).join('.');
}

function randomIpv6(): string {
  const group = (): string => pick(['0', '00', '000', '0000', '1', 'a', 'F', 'ffff', 'FFFF', 'abcd', '12345', 'db8', '2001', 'g', '']) || rnd(65536).toString(16);
  const n = pick([8, 8, 7, 6, 3, 1, 0, 9]);
  const groups = Array.from({ length: n }, group);
  if (rnd(3) > 0) groups.splice(rnd(n + 1), 0, ''); // a "::"
  let s = groups.join(':');
  if (s.startsWith(':') && !s.startsWith('::')) s = ':' + s;
  if (s.endsWith(':') && !s.endsWith('::')) s += ':';
  if (rnd(10) === 0) s += ':1.2.3.4';
  if (rnd(20) === 0) s += '%eth0';
  return s;
}

const fixedAddresses = [
  '0.0.0.0', '255.255.255.255', '10.0.0.1', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ',
  '', '.', '...', '1..2.3', '1.2.3.', '.1.2.3', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1::2:3:4:5:6:7:8', '00001::', 'ABCD::', 'AbCd:0:0:0:0:0:0:1', '::ffff:1.2.3.4', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', ':1::', ':::',
  '1:::2', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7', '::1.2.3.4', '[::1]', '1:2:3:4:5:6:1.2.3.4', '0:0:0:0:0:0:0:0',
  '2001:db8::1', '2001:DB8:0:0:1:0:0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', ' ::1', '::1 ', '1::2/64', '10.0.0.1/8', ':', '1:',
];

t.test('addresses: fast path and ip-address agree', async (t) => {
  mismatches.length = 0;
  let valid = 0;
  const inputs = [...fixedAddresses];
  for (let i = 0; i < 3000; i++) inputs.push(randomIpv4());
  for (let i = 0; i < 5000; i++) inputs.push(randomIpv6());
  const alphabet = '0123456789abcdefABCDEFg:.:/% ';
  for (let i = 0; i < 5000; i++) inputs.push(Array.from({ length: rnd(14) }, () => alphabet[rnd(alphabet.length)]).join(''));
  for (const a of inputs) { checkAddress(a); if ('ok' in outcome(() => parseAddressValidated(a))) valid++; }
  t.same(mismatches, []);
  t.ok(valid > 1000 && valid < inputs.length - 1000, `both valid and invalid inputs are covered (${valid} of ${inputs.length} valid)`);
});

t.test('prefixes: fast path and the validating path agree', async (t) => {
  const lengths = ['0', '1', '8', '24', '26', '32', '33', '64', '127', '128', '129', '026', '000', '0026', '', 'x', '24 ', ' 24', '1/2'];
  mismatches.length = 0;
  for (const a of fixedAddresses) for (const l of lengths) checkPrefix(`${a}/${l}`);
  for (const a of fixedAddresses) checkPrefix(a);
  for (let i = 0; i < 3000; i++) checkPrefix(`${randomIpv4()}/${pick(lengths)}`);
  for (let i = 0; i < 3000; i++) checkPrefix(`${randomIpv6()}/${pick(lengths)}`);
  t.same(mismatches, []);
});

t.test('canonical text is returned as the same string when already canonical', async (t) => {
  const s = ['10.244.1.', '64/26'].join(''); // not a literal: a string of its own
  t.equal(canonicalPrefix(s), '10.244.1.64/26');
  t.equal(canonicalPrefix('10.244.1.65/26'), '10.244.1.64/26');
  t.equal(canonicalPrefix('10.244.1.64/026'), '10.244.1.64/26');
  t.equal(canonicalPrefix('2001:DB8::/32'), '2001:db8::/32');
  t.equal(canonicalPrefix('2001:db8:0:0::1/128'), '2001:db8::1/128');
  t.equal(canonicalPrefix('fd00::1/64'), 'fd00::/64');
  t.equal(canonicalAddress('2001:0db8::0001'), '2001:db8::1');
  t.throws(() => parsePrefix('10.0.0.1/24', { strict: true }), /host bits/);
  t.throws(() => parsePrefix('10.0.0.0/33'), /longer than 32/);
  t.throws(() => parseAddress('10.0.0.0/8'), /is a prefix/);
});
