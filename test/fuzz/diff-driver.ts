// Runs inside a lab namespace: the generator's side of the differential run. Opens one raw
// BGP session from each generator address to each receiver (tern, BIRD), then takes
// commands on a Unix socket (one JSON object per line):
//   {"stream":K,"seed":S,"gen":G}  → sends generate(S) from generator G to every receiver,
//                                     answers {"sent":N} (messages per receiver)
// and reports {"event":"notification",...} / {"event":"closed",...} when a receiver ends a
// session: a difference in itself.
//
// argv: SOCKET_PATH CONFIG_JSON  (config: {gens:[{address,asn,addPath}], receivers:[{name,address,asn}], nextHops:[...]})
import * as net from 'node:net';
import { RawPeer, cap, keepaliveMsg, MsgType, parseNotification } from '../helpers/raw-peer.js';
import { generate } from './update-gen.js';

interface Gen { address: string; asn: number; addPath: boolean }
interface Receiver { name: string; address: string; asn: number }
interface Config { gens: Gen[]; receivers: Receiver[]; nextHops: string[]; messages?: number; extra?: boolean }

const [socketPath = '', configText = '{}'] = process.argv.slice(2);
const cfg = JSON.parse(configText) as Config;
const events: string[] = [];
let client: net.Socket | null = null;

function report(o: object): void {
  const line = JSON.stringify(o);
  if (client) client.write(line + '\n');
  else events.push(line);
}

async function open(g: Gen, r: Receiver): Promise<RawPeer> {
  for (let attempt = 0; ; attempt++) {
    try {
      const peer = await RawPeer.connect({ host: r.address, port: 179, localAddress: g.address });
      const caps = [cap.mp(1), cap.fourOctetAs(g.asn), ...(g.addPath ? [cap.addPath(1, 3)] : [])];
      await peer.handshake({ myAs: g.asn, holdTime: 240, bgpId: g.address, caps });
      // Drain what the receiver sends; a NOTIFICATION or a close is reported.
      void (async () => {
        for (;;) {
          let f;
          try { f = await peer.next(); } catch { report({ event: 'closed', gen: g.address, receiver: r.name }); return; }
          if (f.type === MsgType.Notification) {
            const n = parseNotification(f);
            report({ event: 'notification', gen: g.address, receiver: r.name, code: n.code, subcode: n.subcode, data: n.data.toString('hex') });
          }
        }
      })();
      return peer;
    } catch (err) {
      if (attempt > 60) throw err;
      await new Promise((res) => setTimeout(res, 500));
    }
  }
}

async function main(): Promise<void> {
  const sessions = new Map<string, RawPeer[]>();
  for (const g of cfg.gens) sessions.set(g.address, await Promise.all(cfg.receivers.map((r) => open(g, r))));
  setInterval(() => { for (const ps of sessions.values()) for (const p of ps) p.send(keepaliveMsg()); }, 5000);
  const server = net.createServer((sock) => {
    client = sock;
    for (const e of events.splice(0)) sock.write(e + '\n');
    let buf = '';
    sock.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const cmd = JSON.parse(line) as { stream: number; seed: number; gen: number };
        const g = cfg.gens[cmd.gen]!;
        const receiver = cfg.receivers[0]!;
        const s = generate(cmd.seed, { asn: g.asn, peerAs: receiver.asn, nextHops: [g.address, ...cfg.nextHops], addPath: g.addPath, mark: cmd.stream, ...(cfg.messages ? { messages: cfg.messages } : {}), extra: cfg.extra === true });
        const bytes = Buffer.concat(s.messages);
        for (const p of sessions.get(g.address)!) p.send(bytes);
        sock.write(JSON.stringify({ sent: s.messages.length }) + '\n');
      }
    });
  });
  server.listen(socketPath, () => process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n'));
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ event: 'error', error: String(err) }) + '\n');
  process.exit(1);
});
