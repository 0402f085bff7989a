// Child process that owns tern's rtnetlink notification socket (RTNLGRP_LINK, IPV4_ROUTE,
// IPV6_ROUTE) and forwards every datagram to stdout as [u32 LE length][datagram]. A
// zero-length frame says "subscribed". It runs apart from the daemon because when the
// socket overruns, netlink@0.3.0 aborts the process (see netlink-kernel.ts): here that only
// ends this child, and the parent (netlink-watcher.ts) starts another and dumps again.
// Exits when its stdin closes (the parent is gone).
import { RawNetlinkSocket } from '../runtime/netlink-raw.js';

const NETLINK_ROUTE = 0;
const GROUPS = [1, 7, 11]; // RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE
let out: Buffer[] = [];
let scheduled = false;

function flushOut(): void {
  scheduled = false;
  const b = Buffer.concat(out);
  out = [];
  process.stdout.write(b);
}

function frame(buf: Buffer): void {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32LE(buf.length, 0);
  out.push(h, buf);
  if (!scheduled) { scheduled = true; setImmediate(flushOut); }
}

// Never block on the pipe: a blocked child stops draining the netlink socket, which then
// overruns. Output waits in memory instead (the parent paces tern's own writes).
(process.stdout as unknown as { _handle?: { setBlocking?: (b: boolean) => void } })._handle?.setBlocking?.(false);

const s = new RawNetlinkSocket(NETLINK_ROUTE, { recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 0 });
s.on('message', frame);
s.on('error', (e) => {
  process.stderr.write(`netlink watcher: ${e.message}\n`);
  process.exit(3); // notifications were lost: the parent restarts us and dumps again
});
for (const g of GROUPS) s.addMembership(g);
frame(Buffer.alloc(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
