// The rtnetlink notification socket (RTNLGRP_LINK, IPV4_ROUTE, IPV6_ROUTE), read inside the
// daemon's own process through libc (npm `koffi`, an FFI with prebuilt binaries).
//
// Why not npm `netlink`: when its socket overruns, the kernel flags it (POLLERR) and
// netlink@0.3.0's poll handler builds an ErrnoException with a NULL syscall name, which
// aborts the process; its API also cannot set SO_RCVBUFFORCE. Before this file the socket
// lived in a child process that could die in our place, at the price of a second Node.js
// process per node (~0.09 s of CPU at start) and a pipe hop per event. Here:
// - the receive buffer is 32 MiB (SO_RCVBUFFORCE, root/CAP_NET_ADMIN; else SO_RCVBUF, capped
//   by net.core.rmem_max);
// - an overrun is a recv() failing with ENOBUFS: reading goes on and `onLost` is called
//   once the pending datagrams are read, so the caller dumps the kernel again;
// - the socket is read by the event loop itself: its fd is opened as a libuv stream (Node's
//   internal `pipe_wrap` Pipe handle inside a net.Socket; Node has no public API that takes
//   a netlink fd: net.Socket({ fd }) accepts only TCP, UDP and Unix sockets). The socket is
//   made with net.Socket's `onread` option: libuv reads each datagram straight into one
//   buffer of ours (DATAGRAM_MAX) and calls back with its length, on the main thread's epoll
//   wake-up: one loop wake-up per event, no thread, and no Readable stream work (chunk
//   Buffer, push, 'data') per datagram. libuv reads one datagram per wake-up (a read shorter
//   than the buffer ends its pass), so after it the datagrams already queued are read with
//   non-blocking recv() into the same buffer, up to PASS_DATAGRAMS: a backlog is one loop
//   pass rather than one per datagram. A datagram that fills the buffer may have been cut
//   short by libuv's read(2) (it passes no MSG_TRUNC): it counts as lost, like an overrun
//   (rtnetlink notifications are far smaller: one route or link each).
//   An overrun the stream sees (its read fails with ENOBUFS) destroys it: a new socket is
//   opened (same buffer, same filter) and `onLost` called;
// - where that handle is unavailable (another Node.js), readiness comes from poll(2) run on
//   one libuv worker thread (koffi's async call) for all such sockets of the process, with an
//   eventfd to wake it when the set changes, and the datagrams are read with recv() as above;
// - ignoreSender(port) attaches a classic BPF socket filter that drops, in the kernel, every
//   notification whose nlmsg_pid is `port`: the kernel stamps a notification caused by a
//   request with the requesting socket's port id, so the echoes of the daemon's own writes
//   never wake it, never take receive-buffer room, and cannot overrun it. Notifications of
//   other writers (`ip route`, another routing daemon: their own port ids) and of the kernel
//   itself (port id 0: a link going down, an address removed) pass. Each notification is a
//   datagram of one message (rtnl_notify), so testing the first header is testing all.
// Invariant: an fd is closed only when no poll(2) is running on it.
import type { Socket } from 'node:net';
import { endianness } from 'node:os';
import { loopReadStream, openNetlinkFd, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET } from './netlink-fd.js';
import { libc as sharedLibc } from '../util/libc.js';
import { KernelError } from '../util/errors.js';

const NETLINK_ROUTE = 0;
const SO_ATTACH_FILTER = 26;
/** Classic BPF (linux/filter.h): ld [k] (32 bits, network order), jeq #k, ret #k. */
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
/** Offset of nlmsg_pid in struct nlmsghdr { u32 len; u16 type, flags; u32 seq, pid; }. */
const NLMSG_PID_OFFSET = 12;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const POLLIN = 1;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
/** RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE */
const GROUPS = 0x1 | 0x40 | 0x400;
/**
 * 32 MiB: each queued notification costs about 1 KiB of socket memory (skb truesize), so
 * about 30 000 notifications may wait while the loop is busy (a 100 k-route burst from
 * another program) before an overrun forces a re-dump.
 */
export const NOTIFY_RCVBUF = 32 * 1024 * 1024;
const PASS_DATAGRAMS = 1024;
/**
 * poll(2) returns after this long even with nothing to read. Only a safety net: Node joins its
 * worker threads at exit, so a poll that never returns would hang process.exit(); the 'exit'
 * hook below wakes it at once.
 */
const POLL_TIMEOUT_MS = 5000;
const DATAGRAM_MAX = 64 * 1024;

interface Libc {
  errno(): number;
  socket(domain: number, type: number, proto: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  close(fd: number): number;
  eventfd(init: number, flags: number): number;
  pollAsync(fds: Buffer, n: number, timeout: number, cb: (err: unknown, r: number) => void): void;
  /** setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &{ n, filter }, sizeof(struct sock_fprog)). */
  attachFilter(fd: number, filter: Buffer, n: number): number;
}

let libc: Libc | undefined;
function loadLibc(): Libc {
  if (libc) return libc;
  // loaded on first use: a daemon without a FIB (--no-fib) and the CLI never pay for it
  const shared = sharedLibc();
  const lib = shared.lib;
  const poll = lib.func('int poll(void *fds, uint64_t nfds, int timeout)');
  const fprog = shared.koffi.struct('tern_sock_fprog', { len: 'uint16_t', filter: 'void *' });
  const fprogSize = shared.koffi.sizeof(fprog);
  const setFilter = lib.func('int setsockopt(int fd, int level, int name, const tern_sock_fprog *val, uint32_t len)');
  libc = {
    errno: shared.errno,
    socket: shared.socket,
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    setsockopt: shared.setsockopt,
    recv: lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
    read: lib.func('intptr_t read(int fd, void *buf, size_t len)'),
    write: lib.func('intptr_t write(int fd, const void *buf, size_t len)'),
    close: shared.close,
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
    pollAsync: (fds, n, timeout, cb) => poll.async(fds, n, timeout, cb),
    attachFilter: (fd, filter, n) => setFilter(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: n, filter }, fprogSize),
  };
  return libc;
}

/** One poll(2) on a worker thread for every notification socket of the process. */
class Poller {
  private readonly subs = new Set<NotifySocket>();
  private readonly toClose: number[] = [];
  private polling = false;
  private exiting = false;
  private wakeFd = -1;
  private readonly scratch = Buffer.alloc(8);

  constructor() {
    process.once('exit', () => { this.exiting = true; if (this.polling) this.wake(); });
  }

  add(s: NotifySocket): void { this.subs.add(s); this.kick(); }

  /** `fd` is closed now, or after the running poll(2) returns. */
  remove(s: NotifySocket, fd: number): void {
    this.subs.delete(s);
    if (!this.polling) { loadLibc().close(fd); return; }
    this.toClose.push(fd);
    this.wake();
  }

  private kick(): void {
    if (this.polling) this.wake(); else this.arm();
  }

  private wake(): void {
    const c = loadLibc();
    if (this.wakeFd < 0) return;
    this.scratch.writeBigUInt64LE(1n);
    c.write(this.wakeFd, this.scratch, 8);
  }

  private arm(): void {
    if (this.subs.size === 0 || this.exiting) return;
    const c = loadLibc();
    if (this.wakeFd < 0) this.wakeFd = c.eventfd(0, SOCK_NONBLOCK | SOCK_CLOEXEC);
    const list = [...this.subs];
    const fds = Buffer.alloc(8 * (list.length + 1)); // struct pollfd { int fd; short events, revents; }
    fds.writeInt32LE(this.wakeFd, 0);
    fds.writeInt16LE(POLLIN, 4);
    list.forEach((s, i) => { fds.writeInt32LE(s.fd, 8 * (i + 1)); fds.writeInt16LE(POLLIN, 8 * (i + 1) + 4); });
    this.polling = true;
    c.pollAsync(fds, list.length + 1, POLL_TIMEOUT_MS, (err, r) => {
      this.polling = false;
      for (const fd of this.toClose.splice(0)) c.close(fd);
      if (err || r < 0) {
        // EINTR or a koffi failure: poll again on the next turn (never a tight loop)
        setImmediate(() => this.arm());
        return;
      }
      try {
        if (fds.readInt16LE(6) !== 0) c.read(this.wakeFd, this.scratch, 8);
        list.forEach((s, i) => { if (fds.readInt16LE(8 * (i + 1) + 6) !== 0 && this.subs.has(s)) s.drain(); });
      } finally {
        this.arm();
      }
    });
  }
}

let poller: Poller | undefined;

export class NotifySocket {
  fd = -1;
  private closed = false;
  private readonly buf = Buffer.allocUnsafe(DATAGRAM_MAX);
  /** The libuv stream reading `fd` (absent: the poll(2) thread does). */
  private stream: Socket | undefined;
  /** Port whose notifications the kernel drops (ignoreSender); 0: none. */
  private ignoredPort = 0;
  /** Overruns (ENOBUFS) and truncated datagrams seen since start. */
  lost = 0;
  /** Datagrams read since start (after the kernel-side filter, see ignoreSender). */
  received = 0;
  /** Sockets opened since start (1 + those opened again after an overrun). */
  opened = 0;
  /** The subscription is in place when the constructor returns. */
  readonly ready: Promise<void> = Promise.resolve();

  constructor(
    /** One datagram: buf[start, end), valid only during the call. */
    private readonly onDatagram: (buf: Buffer, start: number, end: number) => void,
    /** Notifications were lost (overrun): the caller must dump again. */
    private readonly onLost: () => void,
    private readonly rcvbuf = NOTIFY_RCVBUF,
    /** Read through the libuv stream when Node has it (default); false: the poll(2) thread. */
    private readonly loopRead = true,
  ) {
    this.open();
  }

  /** Whether the event loop reads the socket itself (else the poll(2) thread wakes it). */
  get readByLoop(): boolean { return this.stream !== undefined; }

  private open(): void {
    const ignored = this.ignoredPort;
    const fd = openNetlinkFd(loadLibc(), {
      protocol: NETLINK_ROUTE, groups: GROUPS, bufferSize: this.rcvbuf,
      ...(ignored !== 0 ? { beforeBind: (f: number) => attachIgnore(f, ignored) } : {}),
    }, sysError);
    this.fd = fd;
    this.opened++;
    // the stream owns the fd once made: destroying it closes the fd
    const stream: Socket | undefined = this.loopRead
      ? loopReadStream(fd, this.buf, (len) => { if (this.stream === stream) this.onRead(len); }, () => { if (this.stream === stream) this.overrun(); })
      : undefined;
    if (stream) {
      this.stream = stream;
      return;
    }
    (poller ??= new Poller()).add(this);
  }

  /** libuv read one datagram of `len` bytes into `buf` (the stream's user buffer). */
  private onRead(len: number): void {
    if (this.closed) return;
    if (len >= DATAGRAM_MAX) { // filled the buffer: may have been cut short, so not trusted
      this.lost++;
      this.onLost();
    } else {
      this.received++;
      this.onDatagram(this.buf, 0, len);
    }
    this.drain(); // measured: reading a burst one datagram per loop pass costs 2x the CPU
  }

  /**
   * The stream ended: its read failed (an overrun: ENOBUFS) and it was destroyed, its fd
   * closed. A new socket, and the caller dumps again.
   */
  private overrun(): void {
    this.stream = undefined;
    if (this.closed) return;
    this.lost++;
    this.reopen();
  }

  private reopen(): void {
    if (this.closed) return;
    try {
      this.open();
    } catch {
      setTimeout(() => this.reopen(), 1000); // no socket now (EMFILE?): try again
      return;
    }
    this.onLost();
  }

  /** Reads what is queued, up to PASS_DATAGRAMS datagrams (the loop or poller comes back for more). */
  drain(): void {
    const c = loadLibc();
    let lost = false;
    for (let n = 0; n < PASS_DATAGRAMS && !this.closed; n++) {
      const len = c.recv(this.fd, this.buf, DATAGRAM_MAX, MSG_DONTWAIT | MSG_TRUNC);
      if (len < 0) {
        const e = c.errno();
        if (e === ENOBUFS) { lost = true; continue; } // overrun: later datagrams are still read
        if (e === EINTR) continue;
        if (e !== EAGAIN) lost = true; // unexpected: resynchronise rather than trust the stream
        break;
      }
      if (len > DATAGRAM_MAX) { lost = true; continue; } // truncated
      this.received++;
      this.onDatagram(this.buf, 0, len);
    }
    if (lost && !this.closed) { this.lost++; this.onLost(); }
  }

  /**
   * Drops, in the kernel, the notifications caused by requests from netlink port `port` (see
   * the file comment). False when the filter could not be attached: they keep coming.
   */
  ignoreSender(port: number): boolean {
    if (this.closed || !Number.isInteger(port) || port <= 0 || port > 0xffffffff) return false;
    if (!attachIgnore(this.fd, port)) return false;
    this.ignoredPort = port;
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stream) { this.stream.destroy(); this.stream = undefined; } else poller?.remove(this, this.fd);
  }
}

/** Attaches to `fd` the filter that drops the notifications stamped with netlink port `port`. */
function attachIgnore(fd: number, port: number): boolean {
  const prog = Buffer.alloc(4 * 8);
  const insn = (i: number, code: number, jt: number, jf: number, k: number): void => {
    // struct sock_filter { u16 code; u8 jt, jf; u32 k; }
    prog.writeUInt16LE(code, i * 8);
    prog.writeUInt8(jt, i * 8 + 2);
    prog.writeUInt8(jf, i * 8 + 3);
    prog.writeUInt32LE(k, i * 8 + 4);
  };
  insn(0, BPF_LD_W_ABS, 0, 0, NLMSG_PID_OFFSET);
  insn(1, BPF_JEQ_K, 0, 1, asLoaded(port));
  insn(2, BPF_RET_K, 0, 0, 0); // drop
  insn(3, BPF_RET_K, 0, 0, 0xffffffff); // keep all of it
  return loadLibc().attachFilter(fd, prog, 4) === 0;
}

/** What BPF's ld [k] (network order) reads from a u32 the kernel stored in host order. */
function asLoaded(n: number): number {
  const b = Buffer.alloc(4);
  if (endianness() === 'LE') b.writeUInt32LE(n); else b.writeUInt32BE(n);
  return b.readUInt32BE(0);
}

function sysError(call: string, errno: number): KernelError {
  return new KernelError('ERR_FIB_NETLINK_NOTIFY', `netlink notification socket: ${call} failed (errno ${errno})`, { errno });
}
