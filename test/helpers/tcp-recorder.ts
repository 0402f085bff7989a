// A TCP recorder for capturing real BGP messages: listens on address:port inside a lab
// host, records every byte each client sends (one file per connection), and answers with
// given bytes (a hand-built OPEN + KEEPALIVE, say) so the client goes on to send UPDATEs.
// It keeps the session alive by re-sending a KEEPALIVE periodically. It never parses what it
// receives: splitting into messages (`splitBgp`) is done by the caller on the raw bytes.
//
// The listener is a tiny Node program run with `ip netns exec` (a Node process cannot listen
// inside another namespace), started through the lab so it is killed at teardown.
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, ProcHandle } from '../../lab/netns.js';

export interface RecorderOptions {
  address: string;
  port?: number;
  /** Bytes sent when a client connects (`'connect'`) or after its first bytes (`'data'`, default). */
  reply?: Buffer;
  replyOn?: 'connect' | 'data';
  /** Re-sent every `repeatEveryMs` after the reply (e.g. a KEEPALIVE); default none. */
  repeat?: Buffer;
  repeatEveryMs?: number;
}

export interface RecordedMessage { type: number; typeName: string; bytes: Buffer }

export interface Recorder {
  readonly address: string;
  readonly port: number;
  readonly dir: string;
  readonly proc: ProcHandle;
  /** Connections accepted so far. */
  connections(): number;
  /** Every byte received on connection `conn` (0-based, in accept order). */
  received(conn?: number): Buffer;
  /** The bytes of connection `conn` split into BGP messages (a partial tail is dropped). */
  messages(conn?: number): RecordedMessage[];
  /** Waits until `pred(messages)` holds for connection `conn`. */
  waitFor(pred: (msgs: RecordedMessage[]) => boolean, opts?: { conn?: number; timeoutMs?: number; what?: string }): Promise<RecordedMessage[]>;
  stop(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

/** Splits a byte stream into BGP messages by the header length field (RFC 4271 §4.1). */
export function splitBgp(buf: Buffer): RecordedMessage[] {
  const out: RecordedMessage[] = [];
  let off = 0;
  while (off + 19 <= buf.length) {
    const len = buf.readUInt16BE(off + 16);
    if (len < 19 || off + len > buf.length) break;
    const type = buf[off + 18] ?? 0;
    out.push({ type, typeName: TYPE_NAMES[type] ?? `TYPE-${type}`, bytes: Buffer.from(buf.subarray(off, off + len)) });
    off += len;
  }
  return out;
}

/** True for an End-of-RIB marker (RFC 4724 §2): empty UPDATE, or MP_UNREACH with no NLRI. */
export function isEndOfRib(m: RecordedMessage): boolean {
  if (m.type !== 2) return false;
  const b = m.bytes;
  if (b.length === 23) return true;
  const wl = b.readUInt16BE(19);
  const al = b.readUInt16BE(21 + wl);
  if (wl !== 0 || 23 + al !== b.length) return false;
  // single attribute: MP_UNREACH_NLRI (15) holding only AFI/SAFI
  const flags = b[23] ?? 0;
  const code = b[24];
  const alen = flags & 0x10 ? b.readUInt16BE(25) : (b[25] ?? 0);
  const hdr = flags & 0x10 ? 4 : 3;
  return code === 15 && alen === 3 && hdr + alen === al;
}

// The listener, run as `node -e` inside the namespace. argv: address port dir replyHex
// replyOn repeatHex repeatEveryMs.
const CHILD = `
const net = require('node:net'); const fs = require('node:fs'); const path = require('node:path');
const [addr, port, dir, replyHex, replyOn, repeatHex, everyMs] = process.argv.slice(1);
const reply = Buffer.from(replyHex, 'hex'); const repeat = Buffer.from(repeatHex, 'hex');
let n = 0;
const srv = net.createServer((sock) => {
  const file = path.join(dir, 'conn-' + String(n++).padStart(3, '0') + '.bin');
  fs.writeFileSync(file, Buffer.alloc(0));
  let replied = false; let timer;
  const send = () => {
    if (replied) return; replied = true;
    if (reply.length) sock.write(reply);
    if (repeat.length && Number(everyMs) > 0) timer = setInterval(() => sock.write(repeat), Number(everyMs));
  };
  if (replyOn === 'connect') send();
  sock.on('data', (d) => { fs.appendFileSync(file, d); send(); });
  sock.on('error', () => {});
  sock.on('close', () => { clearInterval(timer); fs.appendFileSync(path.join(dir, 'closed'), file + '\\n'); });
});
srv.listen({ host: addr, port: Number(port) }, () => console.log('LISTENING ' + addr + ' ' + port));
`;

export async function startRecorder(lab: Lab, host: string, opts: RecorderOptions): Promise<Recorder> {
  const port = opts.port ?? 179;
  const dir = lab.path(`${host}-recorder-${port}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const proc = lab.spawn(host, process.execPath, ['-e', CHILD, opts.address, String(port), dir,
    (opts.reply ?? Buffer.alloc(0)).toString('hex'), opts.replyOn ?? 'data',
    (opts.repeat ?? Buffer.alloc(0)).toString('hex'), String(opts.repeatEveryMs ?? 0)],
  { logFile: lab.path(`${host}-recorder-${port}.log`), env: { ...process.env, NODE_OPTIONS: '' } });
  await lab.waitFor(() => proc.log().includes('LISTENING') || (!proc.running() && Promise.reject(new Error(proc.log()))),
    { what: `recorder listening on ${opts.address}:${port} in ${host}`, timeoutMs: 10_000, intervalMs: 50 });
  const files = () => readdirSync(dir).filter((f) => f.startsWith('conn-')).sort();
  const rec: Recorder = {
    address: opts.address, port, dir, proc,
    connections: () => files().length,
    received(conn = 0) {
      const f = files()[conn];
      return f && existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : Buffer.alloc(0);
    },
    messages: (conn = 0) => splitBgp(rec.received(conn)),
    waitFor(pred, o = {}) {
      return lab.waitFor(() => { const m = rec.messages(o.conn ?? 0); return pred(m) ? m : undefined; },
        { what: o.what ?? 'recorded messages', timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 100 });
    },
    stop: () => proc.kill(),
  };
  return rec;
}

// ---------------------------------------------------------------- hand-built replies (hex)

/** KEEPALIVE: marker, length 19, type 4 (RFC 4271 §4.4). */
export const KEEPALIVE_HEX = 'ffffffffffffffffffffffffffffffff' + '0013' + '04';

export interface OpenSpec {
  /** 2-octet field value; default 65000. With as4 the real AS goes in the capability. */
  asn?: number;
  holdTime?: number;
  routerId?: string;
  families?: Array<'ipv4' | 'ipv6'>;
  /** Advertise the 4-octet AS capability (RFC 6793); default true. */
  as4?: boolean;
  /** ADD-PATH send/receive for every family (RFC 7911); default false. */
  addPath?: boolean;
  /** Graceful restart capability, restart time 120, every family (RFC 4724); default true. */
  gracefulRestart?: boolean;
  routeRefresh?: boolean;
}

/** Builds an OPEN the way the wire spells it (RFC 4271 §4.2, RFC 5492 capabilities), one
 *  Capabilities optional parameter (type 2) holding every capability. */
export function buildOpenHex(s: OpenSpec = {}): string {
  const asn = s.asn ?? 65000;
  const fams = s.families ?? ['ipv4'];
  const afi = (f: 'ipv4' | 'ipv6') => (f === 'ipv4' ? '0001' : '0002');
  const h2 = (n: number) => n.toString(16).padStart(4, '0');
  const h1 = (n: number) => n.toString(16).padStart(2, '0');
  const caps: string[] = [];
  for (const f of fams) caps.push(`01 04 ${afi(f)} 00 01`); // MP-BGP: AFI, reserved, SAFI 1 (RFC 4760 §8)
  if (s.routeRefresh ?? true) caps.push('02 00'); // route refresh (RFC 2918)
  if (s.gracefulRestart ?? true) { // GR: flags 0 + time 120, then AFI/SAFI/flags per family
    caps.push(`40 ${h1(2 + 4 * fams.length)} 0078 ${fams.map((f) => `${afi(f)} 01 00`).join(' ')}`);
  }
  if (s.as4 ?? true) caps.push(`41 04 ${asn.toString(16).padStart(8, '0')}`); // 4-octet AS
  if (s.addPath) caps.push(`45 ${h1(4 * fams.length)} ${fams.map((f) => `${afi(f)} 01 03`).join(' ')}`); // send+receive
  const capHex = caps.join('').replace(/\s+/g, '');
  const params = `02${h1(capHex.length / 2)}${capHex}`;
  const id = (s.routerId ?? '10.0.0.100').split('.').map((o) => h1(Number(o))).join('');
  const my2 = asn > 0xffff ? 23456 : asn; // AS_TRANS (RFC 6793 §9)
  const body = `04${h2(my2)}${h2(s.holdTime ?? 90)}${id}${h1(params.length / 2)}${params}`;
  const len = 19 + body.length / 2;
  return `${'ff'.repeat(16)}${h2(len)}01${body}`;
}
