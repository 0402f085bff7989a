// A "raw" BGP peer for session tests: speaks BGP as bytes over a real TCP socket, with its
// own tiny encoders so tests do not trust the codec under test. Assert on the exact bytes a
// speaker sends (NOTIFICATION code/subcode/data) and drive it with hand-built messages.
//
// RFC 4271 §4 message formats; RFC 5492 capabilities.
import * as net from 'node:net';

export const MsgType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;

export function message(type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + body.length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

function tlv(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

/** Capability TLVs (RFC 5492 §4), for `openMsg({caps})`. */
export const cap = {
  mp: (afi: number, safi = 1) => tlv(1, Buffer.from([afi >> 8, afi & 0xff, 0, safi])),
  routeRefresh: () => tlv(2, Buffer.alloc(0)),
  fourOctetAs: (asn: number) => {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(asn);
    return tlv(65, v);
  },
  /** RFC 4724 §3: flags R=0x8 (N=0x4) in the top nibble of the 12-bit restart time field. */
  gracefulRestart: (restartTime: number, flags = 0, families: { afi: number; safi?: number; forwarding?: boolean }[] = []) => {
    const v = Buffer.alloc(2 + 4 * families.length);
    v.writeUInt16BE(((flags & 0xf) << 12) | (restartTime & 0xfff));
    families.forEach((f, i) => {
      v.writeUInt16BE(f.afi, 2 + 4 * i);
      v[4 + 4 * i] = f.safi ?? 1;
      v[5 + 4 * i] = f.forwarding ? 0x80 : 0;
    });
    return tlv(64, v);
  },
  /** RFC 7911 §4: mode 1 receive, 2 send, 3 both. */
  addPath: (afi: number, mode: number, safi = 1) => tlv(69, Buffer.from([afi >> 8, afi & 0xff, safi, mode])),
};

export interface OpenFields {
  version?: number;
  myAs: number;
  holdTime: number;
  bgpId: string;
  /** Capability TLVs; default: IPv4 unicast MP + 4-octet AS of myAs. */
  caps?: Buffer[];
}

export function openMsg(o: OpenFields): Buffer {
  const caps = Buffer.concat(o.caps ?? [cap.mp(1), cap.fourOctetAs(o.myAs)]);
  const params = caps.length > 0 ? tlv(2, caps) : Buffer.alloc(0);
  const body = Buffer.alloc(10);
  body[0] = o.version ?? 4;
  body.writeUInt16BE(o.myAs > 0xffff ? 23456 : o.myAs, 1);
  body.writeUInt16BE(o.holdTime, 3);
  Buffer.from(o.bgpId.split('.').map(Number)).copy(body, 5);
  body[9] = params.length;
  return message(MsgType.Open, Buffer.concat([body, params]));
}

export const keepaliveMsg = (): Buffer => message(MsgType.Keepalive);

export function notificationMsg(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return message(MsgType.Notification, Buffer.concat([Buffer.from([code, subcode]), data]));
}

/** An UPDATE with no withdrawals, no attributes, no NLRI: the IPv4 End-of-RIB marker. */
export const emptyUpdateMsg = (): Buffer => message(MsgType.Update, Buffer.alloc(4));

export interface RawFrame {
  readonly type: number;
  /** Whole message, header included. */
  readonly raw: Buffer;
  readonly body: Buffer;
}

export function parseNotification(f: RawFrame): { code: number; subcode: number; data: Buffer } {
  return { code: f.body[0] ?? -1, subcode: f.body[1] ?? -1, data: f.body.subarray(2) };
}

export function parseOpen(f: RawFrame): { version: number; myAs: number; holdTime: number; bgpId: string; caps: { code: number; value: Buffer }[] } {
  const b = f.body;
  const caps: { code: number; value: Buffer }[] = [];
  let off = 10;
  while (off < 10 + (b[9] ?? 0)) {
    const plen = b[off + 1] ?? 0;
    if (b[off] === 2) {
      for (let c = off + 2; c < off + 2 + plen; c += 2 + (b[c + 1] ?? 0)) caps.push({ code: b[c] ?? 0, value: b.subarray(c + 2, c + 2 + (b[c + 1] ?? 0)) });
    }
    off += 2 + plen;
  }
  return { version: b[0] ?? 0, myAs: b.readUInt16BE(1), holdTime: b.readUInt16BE(3), bgpId: [...b.subarray(5, 9)].join('.'), caps };
}

/** One TCP connection speaking raw BGP. */
export class RawPeer {
  /** Every octet received, in order. */
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private readonly frames: RawFrame[] = [];
  private waiters: { resolve: (f: RawFrame) => void; reject: (e: Error) => void }[] = [];
  private ended = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.ended = true;
      for (const w of this.waiters) w.reject(new Error('connection closed'));
      this.waiters = [];
      resolve();
    }));
  }

  static connect(opts: { port: number; host?: string; localAddress?: string }): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port: opts.port, host: opts.host ?? '127.0.0.1', ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new RawPeer(sock));
      });
    });
  }

  send(...msgs: Buffer[]): void {
    this.socket.write(Buffer.concat(msgs));
  }

  /** The next message received (rejects if the connection closes first). */
  next(): Promise<RawFrame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The next message that is not a KEEPALIVE. */
  async nextNonKeepalive(): Promise<RawFrame> {
    for (;;) {
      const f = await this.next();
      if (f.type !== MsgType.Keepalive) return f;
    }
  }

  /** Reads the speaker's OPEN, answers with `open` and a KEEPALIVE; returns the speaker's OPEN. */
  async handshake(open: OpenFields): Promise<RawFrame> {
    const theirs = await this.next();
    if (theirs.type !== MsgType.Open) throw new Error(`expected OPEN, got type ${theirs.type}`);
    this.send(openMsg(open), keepaliveMsg());
    return theirs;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 19) {
      const len = this.pending.readUInt16BE(16);
      if (len < 19 || this.pending.length < len) break;
      const raw = this.pending.subarray(0, len);
      this.pending = this.pending.subarray(len);
      const f: RawFrame = { type: raw[18] ?? 0, raw, body: raw.subarray(19) };
      const w = this.waiters.shift();
      if (w) w.resolve(f);
      else this.frames.push(f);
    }
  }
}

/** A TCP listener handing out RawPeers for accepted connections. */
export class RawListener {
  private readonly accepted: RawPeer[] = [];
  private waiters: ((p: RawPeer) => void)[] = [];
  connections = 0;

  private constructor(readonly server: net.Server) {
    server.on('connection', (sock) => {
      this.connections++;
      const p = new RawPeer(sock);
      const w = this.waiters.shift();
      if (w) w(p);
      else this.accepted.push(p);
    });
  }

  static listen(host = '127.0.0.1'): Promise<RawListener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ port: 0, host }, () => resolve(new RawListener(server)));
    });
  }

  get port(): number {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  accept(): Promise<RawPeer> {
    const p = this.accepted.shift();
    if (p) return Promise.resolve(p);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): Promise<void> {
    for (const p of this.accepted) p.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
