// A netlink socket opened through libc and read by the event loop: what the notification
// socket (netlink-notify.ts) and the request socket (netlink-request.ts) share.
//
// Node has no public API that takes a netlink fd (net.Socket({ fd }) accepts only TCP, UDP
// and Unix sockets), so the fd is opened as a libuv stream through Node's internal
// `pipe_wrap` Pipe handle inside a net.Socket made with the `onread` option: libuv reads each
// datagram straight into one buffer of the caller's and calls back with its length (no chunk
// Buffer, Readable.push or 'data' per datagram). Where that handle is missing (another
// Node.js) the callers fall back: notifications to a poll(2) thread, requests to npm
// `netlink`.
// Invariant: an fd handed to a stream belongs to it (destroying the stream closes the fd);
// an fd that failed to open is closed here.
import { Socket } from 'node:net';

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;

/** The libc calls opening a netlink fd takes (both sockets' koffi bindings have them). */
export interface FdCalls {
  errno(): number;
  socket(domain: number, type: number, proto: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  close(fd: number): number;
}

export interface NetlinkFdOptions {
  readonly protocol: number;
  /** Multicast groups to bind to (0: none). */
  readonly groups: number;
  /** Receive buffer, forced past net.core.rmem_max where allowed (root/CAP_NET_ADMIN), else asked for. */
  readonly bufferSize: number;
  /** The send buffer too, the same way. */
  readonly sendBuffer?: boolean;
  /** Runs on the fd before bind (a socket filter: nothing slips through before it). */
  readonly beforeBind?: (fd: number) => void;
}

/**
 * A non-blocking, close-on-exec netlink fd with its buffers set, bound with a port the
 * kernel chooses; `fail(call, errno)` makes the error thrown when a call fails.
 */
export function openNetlinkFd(c: FdCalls, o: NetlinkFdOptions, fail: (call: string, errno: number) => Error): number {
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, o.protocol);
  if (fd < 0) throw fail('socket', c.errno());
  try {
    const v = Buffer.alloc(4);
    v.writeInt32LE(o.bufferSize);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, v, 4) !== 0) c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, v, 4);
    if (o.sendBuffer && c.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, v, 4) !== 0) c.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, v, 4);
    o.beforeBind?.(fd);
    const sa = Buffer.alloc(12); // struct sockaddr_nl { u16 family, pad; u32 pid (0: the kernel chooses); u32 groups; }
    sa.writeUInt16LE(AF_NETLINK, 0);
    sa.writeUInt32LE(o.groups, 8);
    if (c.bind(fd, sa, 12) !== 0) throw fail('bind', c.errno());
    return fd;
  } catch (err) {
    c.close(fd);
    throw err;
  }
}

interface PipeHandle { open(fd: number): number }
type PipeBinding = { Pipe: new (type: number) => PipeHandle; constants: { SOCKET: number } };
let pipeBinding: PipeBinding | null | undefined;

/** Node's internal Pipe handle (process.binding('pipe_wrap')), or null where it is missing. */
function pipeWrap(): PipeBinding | null {
  if (pipeBinding !== undefined) return pipeBinding;
  try {
    const b = (process as unknown as { binding(name: string): PipeBinding }).binding('pipe_wrap');
    pipeBinding = typeof b.Pipe === 'function' && typeof b.constants?.SOCKET === 'number' ? b : null;
  } catch {
    pipeBinding = null;
  }
  return pipeBinding;
}

/** True where the event loop can read a netlink fd (loopReadStream can succeed). */
export function loopReadable(): boolean {
  return pipeWrap() !== null;
}

/**
 * A net.Socket reading `fd` on the event loop, each datagram into `buf`: `onRead(len)` per
 * datagram, `onClose()` once when the stream ends (its read failed: an overrun, the fd
 * closed). Undefined where the pipe handle is missing or does not take the fd; the caller
 * still owns the fd then.
 */
export function loopReadStream(fd: number, buf: Buffer, onRead: (len: number) => void, onClose: () => void): Socket | undefined {
  const pipe = pipeWrap();
  if (!pipe) return undefined;
  const handle = new pipe.Pipe(pipe.constants.SOCKET);
  if (handle.open(fd) !== 0) return undefined;
  const stream = new Socket({
    handle, readable: true, writable: false,
    onread: { buffer: buf, callback: onRead },
  } as ConstructorParameters<typeof Socket>[0]);
  stream.on('error', () => undefined); // followed by 'close'
  stream.on('close', onClose);
  return stream;
}
