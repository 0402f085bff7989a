// Many lightweight iBGP route-reflector clients in one process, for the reflector fan-out
// benchmark; bench/reflector.ts spreads the clients over several such processes. Client i listens on its own address (all on one interface of the clients'
// namespace), accepts the reflector's connection, announces its own /26 block (next hop = itself) and
// counts the distinct blocks the reflector sends it. Messages are built with tern's codec
// (src/bgp/wire); received UPDATEs are parsed by hand (only the IPv4 NLRI and withdrawn
// fields are needed, no ADD-PATH is offered) to keep the client side cheap.
//
//   node --import tsx bench/agent/bgp-clients.ts <reflectorIp> <count> <firstClientIp> <blockBase> [<from> <to>]
// Runs clients from ≤ i < to (default: all `count`) of the `count` in the scenario.
// Prints `listening` once its clients listen, `status <epochMs> <established> <complete> <cpuMs>`
// every 200 ms (complete = the client has all count−1 other blocks; cpuMs: this process's
// CPU time so far) and `done <epochMs>` once its clients are complete.
import { createServer, type Socket } from 'node:net';
import { Framer, encodeMessage, endOfRib, encodePathAttributes } from '../../src/bgp/wire/index.js';
import { packUpdates } from '../../src/bgp/wire/index.js';
import { nthAddr, nthPrefix } from '../lib.js';

const [rr, countS, firstIp, blockBase, fromS, toS] = process.argv.slice(2) as [string, string, string, string, string?, string?];
const count = Number(countS);
const from = Number(fromS ?? 0);
const to = Number(toS ?? count);
const mine = to - from;
const AS = 64512;
const want = count - 1;

interface Client { i: number; addr: string; block: string; sock?: Socket; up: boolean; seen: Set<number>; own: number }
const keyOf = (b: Buffer, off: number, len: number): number => {
  let a = 0;
  for (let j = 0; j < 4; j++) a = a * 256 + (j < Math.ceil(len / 8) ? b[off + j]! : 0);
  return a * 64 + len;
};
const ownKey = (prefix: string): number => {
  const [a, l] = prefix.split('/');
  return a!.split('.').reduce((x, o) => x * 256 + Number(o), 0) * 64 + Number(l);
};

const clients: Client[] = Array.from({ length: mine }, (_, k) => {
  const i = from + k;
  const block = nthPrefix(blockBase, i, 26);
  return { i, addr: nthAddr(firstIp, i), block, up: false, seen: new Set(), own: ownKey(block) };
});
let complete = 0;
let done = false;
let doneAt = 0;
let listening = 0;

function parseNlri(c: Client, b: Buffer, off: number, end: number, add: boolean): void {
  while (off < end) {
    const len = b[off]!;
    const k = keyOf(b, off + 1, len);
    off += 1 + Math.ceil(len / 8);
    if (k === c.own) continue;
    const before = c.seen.size;
    if (add) c.seen.add(k); else c.seen.delete(k);
    if (before < want && c.seen.size >= want) { if (++complete === mine && !doneAt) doneAt = Date.now(); }
    else if (before >= want && c.seen.size < want) complete--;
  }
}

function onFrame(c: Client, f: Buffer): void {
  const type = f[18];
  if (type === 1) { c.sock!.write(encodeMessage({ type: 'keepalive' }, { fourOctetAs: true })); return; }
  if (type === 4) {
    if (!c.up) {
      c.up = true;
      const attrs = encodePathAttributes({ origin: 0, asPath: [], nextHop: c.addr, localPref: 100 }, { fourOctetAs: true });
      for (const m of packUpdates({ family: 'ipv4', attributes: attrs, nlri: [{ prefix: c.block }], opts: { fourOctetAs: true } })) c.sock!.write(m);
      c.sock!.write(endOfRib('ipv4'));
    }
    return;
  }
  if (type === 3) { process.stderr.write(`client ${c.addr}: NOTIFICATION ${f[19]}/${f[20]}\n`); c.sock!.destroy(); return; }
  if (type !== 2) return;
  const wl = f.readUInt16BE(19);
  parseNlri(c, f, 21, 21 + wl, false);
  const al = f.readUInt16BE(21 + wl);
  parseNlri(c, f, 23 + wl + al, f.length, true);
}

/** Each client listens on its own address, port 179, and waits for the reflector to
 *  connect (the reflector's peers are active, as BIRD's and tern's non-mesh peers are). */
function listen(c: Client): void {
  const srv = createServer((s) => {
    if (c.sock) { s.destroy(); return; } // one session per client
    const framer = new Framer();
    c.sock = s;
    s.setNoDelay(true);
    s.write(encodeMessage({
      type: 'open', version: 4, myAs: AS, holdTime: 240, bgpId: c.addr,
      capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'routeRefresh' }, { kind: 'fourOctetAs', asn: AS }],
    }, { fourOctetAs: true }));
    s.on('data', (chunk) => { for (const f of framer.push(chunk)) onFrame(c, f); });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (c.seen.size >= want) complete--;
      c.up = false; c.seen.clear(); c.sock = undefined;
    });
  });
  srv.on('error', (e) => { process.stderr.write(`client ${c.addr}: listen failed: ${e.message}\n`); process.exit(1); });
  srv.listen({ host: c.addr, port: 179, backlog: 16 }, () => { if (++listening === mine) process.stdout.write('listening\n'); });
}

for (const c of clients) listen(c);
setInterval(() => { for (const c of clients) if (c.up) c.sock?.write(encodeMessage({ type: 'keepalive' }, { fourOctetAs: true })); }, 30_000).unref();
const timer = setInterval(() => {
  const now = Date.now();
  const est = clients.filter((c) => c.up).length;
  const cpu = process.cpuUsage();
  process.stdout.write(`status ${now} ${est} ${complete} ${Math.round((cpu.user + cpu.system) / 1000)}\n`);
  if (!done && complete === mine) { done = true; process.stdout.write(`done ${doneAt || now}\n`); }
}, 200);
process.on('SIGTERM', () => { clearInterval(timer); for (const c of clients) c.sock?.destroy(); process.exit(0); });
