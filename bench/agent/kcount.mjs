// Kernel route counter for the benchmarks, run inside a lab namespace with plain node (no
// tsx: it starts in ~50 ms). It counts the IPv4 routes of table main with rtm_protocol 12
// (`proto bird`) whose destination lies in a given range:
// - an initial dump gives the starting set,
// - then RTM_NEWROUTE / RTM_DELROUTE notifications (multicast group RTNLGRP_IPV4_ROUTE, 32 MiB
//   receive buffer) keep the set current with no polling, so the kernel pays only what any
//   route listener costs (tern and BIRD listen too);
// - once the target is reached a final dump confirms the count (printed as `verify`).
// Only the rtmsg header and RTA_DST are read (no full decoding).
//
//   node bench/agent/kcount.mjs <target> <range a.b.c.d/len> [maxMs=900000] [--absent]
// `--absent`: done when the count drops to ≤ target instead of rising to ≥ target.
// Prints `ready <epochMs> <count>`, `first <epochMs> <count>` at the first change,
// `progress <epochMs> <count>` every second, `done <epochMs> <count>`, `verify <count>`.
import { RawNetlinkSocket } from 'netlink';

const target = Number(process.argv[2] ?? 0);
const [rAddr, rLen] = (process.argv[3] ?? '0.0.0.0/0').split('/');
const maxMs = Number(process.argv[4] ?? 900000);
const absent = process.argv.includes('--absent');
const rBits = Number(rLen);
const rBase = rAddr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const rMask = rBits === 0 ? 0 : (0xffffffff << (32 - rBits)) >>> 0;
const out = (s) => process.stdout.write(`${s}\n`);

/** Key of a proto-bird main-table IPv4 route inside the range, or -1. */
function keyOf(buf, off, len) {
  if (buf[off + 16] !== 2 || buf[off + 16 + 4] !== 254 || buf[off + 16 + 5] !== 12) return -1;
  const dstLen = buf[off + 17];
  let a = off + 16 + 12;
  let dst = 0;
  while (a + 4 <= off + len) {
    const alen = buf.readUInt16LE(a);
    const atype = buf.readUInt16LE(a + 2) & 0x3fff;
    if (alen < 4) break;
    if (atype === 1 && alen >= 8) { dst = buf.readUInt32BE(a + 4); break; }
    a += (alen + 3) & ~3;
  }
  if (((dst & rMask) >>> 0) !== ((rBase & rMask) >>> 0) || dstLen < rBits) return -1;
  return dst * 64 + dstLen;
}

const set = new Set();
let dumpSet = null;
let dumpDone = null;
const req = new RawNetlinkSocket(0, { recvBufferSize: 8 << 20, sendBufferSize: 1 << 20 });
req.on('message', (buf) => {
  for (let off = 0; off + 16 <= buf.length;) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) break;
    const type = buf.readUInt16LE(off + 4);
    if (type === 24 && dumpSet) { const k = keyOf(buf, off, len); if (k >= 0) dumpSet.add(k); }
    else if ((type === 3 || type === 2) && dumpDone) { const d = dumpDone; dumpDone = null; d(dumpSet); }
    off += (len + 3) & ~3;
  }
});
function dump() {
  return new Promise((resolve) => {
    dumpSet = new Set();
    dumpDone = resolve;
    const b = Buffer.alloc(28);
    b.writeUInt32LE(28, 0); b.writeUInt16LE(26, 4); b.writeUInt16LE(0x301, 6); b.writeUInt32LE(1, 8); b.writeUInt8(2, 16);
    req.send(b, {}, () => undefined);
  });
}

let finished = false;
let changed = false;
let initial = -1;
const start = Date.now();
const isDone = () => (absent ? set.size <= target : set.size >= target);
async function finish(what) {
  if (finished) return;
  finished = true;
  out(`${what} ${Date.now()} ${set.size}`);
  const v = await dump();
  out(`verify ${v.size}`);
  process.exit(0);
}
const ev = new RawNetlinkSocket(0, { recvBufferSize: 32 << 20, sendBufferSize: 0 });
ev.on('message', (buf) => {
  for (let off = 0; off + 16 <= buf.length;) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) break;
    const type = buf.readUInt16LE(off + 4);
    if (type === 24 || type === 25) {
      const k = keyOf(buf, off, len);
      if (k >= 0) { if (type === 24) set.add(k); else set.delete(k); }
    }
    off += (len + 3) & ~3;
  }
  if (initial < 0) return;
  if (!changed && set.size !== initial) { changed = true; out(`first ${Date.now()} ${set.size}`); }
  if (!finished && isDone()) void finish('done');
});
// Overrun (ENOBUFS: the receive buffer is capped by net.core.rmem_max): from then on the
// count comes from dumps every 100 ms (notifications may be missing), until done.
let polling = false;
ev.on('error', (e) => {
  out(`lost ${Date.now()} ${String(e?.message ?? e)}`);
  if (polling) return;
  polling = true;
  // stop listening: netlink@0.3.0 aborts the process on a second overrun of this socket
  try { ev.dropMembership?.(7); ev.close?.(); } catch { /* closed */ }
  void (async () => {
    while (!finished) {
      const v = await dump();
      set.clear();
      for (const k of v) set.add(k);
      if (isDone()) { void finish('done'); return; }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
});
ev.addMembership(7); // RTNLGRP_IPV4_ROUTE
for (const k of await dump()) set.add(k);
initial = set.size;
out(`ready ${Date.now()} ${set.size}`);
if (isDone()) await finish('done');
setInterval(() => {
  const now = Date.now();
  out(`progress ${now} ${set.size}`);
  if (now - start > maxMs) void finish('timeout');
}, 1000);
