// The rtnetlink request socket (route writes and dumps) read by the event loop itself, and
// written with one send(2) through libc (npm `koffi`), in place of npm `netlink`'s
// RawNetlinkSocket where Node has the pipe handle it needs (netlink-fd.ts).
//
// Why: netlink@0.3.0 answers every send from a libuv timer in a later loop pass (a native
// callback per datagram sent), switches its poll between readable and readable+writable
// around each send (two epoll_ctl calls), reads each datagram with a MSG_PEEK recvmsg, then a
// second recvmsg into a new allocation, and builds an address object per datagram. Per route
// written that is an extra loop pass and three native-to-JavaScript callbacks. Here a send is
// one send(2) in the caller's turn (its result known at once), and each answer datagram is
// read by libuv into one buffer of ours (net.Socket's `onread`: no chunk Buffer, no stream
// push) and handed over as a view valid only during the call.
//
// Invariants: the kernel handles a request inside send(2), so a datagram is either refused
// there (the callback gets the errno) or answered later on this socket, never both. EAGAIN
// and ENOBUFS from send(2) (memory pressure) are retried on the next loop pass, in order. The
// answers are bounded by the caller's requests in flight, so the receive buffer cannot
// overrun; a failed read (the stream ends) is reported as an 'error' and the socket is dead,
// as netlink@0.3.0's is after a poll error.
import type { Socket } from 'node:net';
import { libc as sharedLibc, type KoffiFunction } from '../util/libc.js';
import { loopReadable, loopReadStream, openNetlinkFd } from './netlink-fd.js';
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
/** Dump datagrams are at most 32 KiB (the kernel's dump skb); a read that fills this may be cut short. */
const DATAGRAM_MAX = 64 * 1024;

/** What NetlinkKernel uses of a request socket (netlink@0.3.0's RawNetlinkSocket has the same shape). */
export interface RequestSocket {
  /** One datagram of answers; `buf` may be reused after the call (copy what is kept). */
  on(event: 'message', listener: (buf: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error & { errno?: number }) => void): unknown;
  /** Sends the messages as one datagram; `cb` gets an error when the kernel refused it. */
  send(msgs: Buffer | Buffer[], opts: object, cb: (err?: Error & { errno?: number }) => void): void;
  address(): { port: number };
  ref(): void;
  unref(): void;
  close(): void;
}

interface Calls {
  errno(): number;
  socket(domain: number, type: number, proto: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  getsockname: KoffiFunction;
  send: KoffiFunction;
  close(fd: number): number;
}

let calls: Calls | undefined;
function loadCalls(): Calls {
  if (calls) return calls;
  const c = sharedLibc();
  calls = {
    errno: c.errno, socket: c.socket, setsockopt: c.setsockopt, close: c.close,
    bind: c.lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    getsockname: c.lib.func('int getsockname(int fd, void *addr, void *len)'),
    send: c.lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
  };
  return calls;
}

type Listener = (x: never) => void;

/** A loop-read request socket, or undefined where Node lacks the pipe handle (use npm `netlink`'s). */
export function openRequestSocket(protocol: number, bufferSize: number): RequestSocket | undefined {
  return loopReadable() ? new LoopRequestSocket(protocol, bufferSize) : undefined;
}

class LoopRequestSocket implements RequestSocket {
  private readonly fd: number;
  private readonly port: number;
  private readonly stream: Socket;
  private readonly buf = Buffer.allocUnsafe(DATAGRAM_MAX);
  private onMessage: (buf: Buffer) => void = () => undefined;
  private onError: (err: Error & { errno?: number }) => void = () => undefined;
  /** Datagrams waiting for send(2) to take them again (EAGAIN/ENOBUFS), in order. */
  private retry: { data: Buffer; cb: (err?: Error & { errno?: number }) => void }[] = [];
  private retryArmed = false;
  private closed = false;

  constructor(protocol: number, bufferSize: number) {
    const c = loadCalls();
    const fd = openNetlinkFd(c, { protocol, groups: 0, bufferSize, sendBuffer: true }, errnoError);
    let stream: Socket | undefined;
    try {
      const sa = Buffer.alloc(12);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(12);
      if (c.getsockname(fd, sa, len) !== 0) throw errnoError('getsockname', c.errno());
      this.port = sa.readUInt32LE(4); // the port the kernel chose at bind
      stream = loopReadStream(fd, this.buf, (n) => this.onRead(n), () => {
        if (this.closed) return;
        this.closed = true;
        this.onError(Object.assign(new Error('netlink request socket: read failed'), { errno: ENOBUFS }));
      });
      if (!stream) throw errnoError('uv_pipe_open', 0);
    } catch (err) {
      c.close(fd);
      throw err;
    }
    // the stream owns the fd from here: destroying it closes the fd
    this.fd = fd;
    this.stream = stream;
  }

  on(event: 'message' | 'error', listener: Listener): this {
    if (event === 'message') this.onMessage = listener as (buf: Buffer) => void;
    else this.onError = listener as (err: Error & { errno?: number }) => void;
    return this;
  }

  private onRead(len: number): void {
    if (this.closed) return;
    if (len >= DATAGRAM_MAX) { // filled the buffer: may have been cut short
      this.onError(Object.assign(new Error('netlink request socket: datagram truncated'), { errno: 0 }));
      return;
    }
    this.onMessage(this.buf.subarray(0, len));
  }

  send(msgs: Buffer | Buffer[], _opts: object, cb: (err?: Error & { errno?: number }) => void): void {
    const data = Array.isArray(msgs) ? (msgs.length === 1 ? msgs[0]! : Buffer.concat(msgs)) : msgs;
    if (this.retry.length > 0) { this.retry.push({ data, cb }); return; } // keep the order
    this.sendNow(data, cb);
  }

  /** False when the datagram must wait (EAGAIN/ENOBUFS): queued for the next pass. */
  private sendNow(data: Buffer, cb: (err?: Error & { errno?: number }) => void): boolean {
    if (this.closed) { queueMicrotask(() => cb(Object.assign(new Error('netlink request socket closed'), { errno: 9 }))); return true; }
    const c = loadCalls();
    for (;;) {
      const n = c.send(this.fd, data, data.length, 0);
      if (n >= 0) { cb(); return true; }
      const e = c.errno();
      if (e === EINTR) continue;
      if (e === EAGAIN || e === ENOBUFS) {
        if (this.retry[0]?.data !== data) this.retry.push({ data, cb });
        this.armRetry();
        return false;
      }
      // refused by the kernel: answered after the caller's current turn, as an answer would be
      queueMicrotask(() => cb(errnoError('sendmsg', e)));
      return true;
    }
  }

  private armRetry(): void {
    if (this.retryArmed) return;
    this.retryArmed = true;
    setImmediate(() => {
      this.retryArmed = false;
      while (this.retry.length > 0) {
        const r = this.retry[0]!;
        if (!this.sendNow(r.data, r.cb)) return;
        this.retry.shift();
      }
    });
  }

  address(): { port: number } { return { port: this.port }; }
  ref(): void { this.stream.ref(); }
  unref(): void { this.stream.unref(); }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retry = [];
    this.stream.destroy(); // the stream owns the fd: destroying it closes the fd
  }
}

function errnoError(call: string, errno: number): Error & { errno: number } {
  return Object.assign(new Error(`netlink request socket: ${call} failed (errno ${errno})`), { errno });
}
