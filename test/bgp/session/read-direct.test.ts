// A session's TCP socket read without its Readable stream (transport.ts readDirect): chunks
// come from one shared buffer that the next read overwrites, so the framer copies every
// message it returns; stream events (pause, end, close) behave as before; any other Duplex
// keeps 'data'.
import t, { type Test } from 'tap';
import * as net from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Buffer } from 'node:buffer';
import { readDirect } from '../../../src/bgp/session/transport.js';
import { Framer } from '../../../src/bgp/wire/index.js';

const keepalive = (): Buffer => Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 19, 4])]);

async function pair(t: Test): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const acc = once(server, 'connection');
  const client = net.connect({ port, host: '127.0.0.1' });
  const [accepted] = (await acc) as [net.Socket];
  await (client.connecting ? once(client, 'connect') : Promise.resolve());
  t.teardown(() => { client.destroy(); accepted.destroy(); server.close(); });
  return { client, accepted };
}

t.test('an accepted socket and a dialled one (while connecting) are both read directly', async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const fromClient: Buffer[] = [];
  const fromServer: Buffer[] = [];
  const acc = new Promise<net.Socket>((resolve) => server.once('connection', (s: net.Socket) => {
    t.equal(readDirect(s, (c) => fromClient.push(Buffer.from(c))), true, 'accepted socket');
    resolve(s);
  }));
  const client = net.connect({ port, host: '127.0.0.1' });
  t.equal(readDirect(client, (c) => fromServer.push(Buffer.from(c))), true, 'connecting socket');
  const accepted = await acc;
  t.teardown(() => { client.destroy(); accepted.destroy(); server.close(); });
  await once(client, 'connect');
  client.write('hello');
  accepted.write('world');
  while (fromClient.length === 0 || fromServer.length === 0) await new Promise((r) => setTimeout(r, 5));
  t.equal(Buffer.concat(fromClient).toString(), 'hello');
  t.equal(Buffer.concat(fromServer).toString(), 'world');
  t.equal(accepted.listenerCount('data'), 0, 'no Readable data path');
  t.equal(readDirect(accepted, () => undefined), false, 'only once per socket');
});

t.test('messages kept from one read survive the next read into the shared buffer', async (t) => {
  const { client, accepted } = await pair(t);
  const framer = new Framer();
  const kept: Buffer[] = [];
  readDirect(accepted, (c) => { for (const m of framer.push(c, true)) kept.push(m); });
  const a = keepalive();
  const b = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 23, 2, 0, 0, 0, 0])]); // an empty UPDATE
  client.write(a);
  while (kept.length < 1) await new Promise((r) => setTimeout(r, 5));
  client.write(Buffer.concat([b, a.subarray(0, 7)])); // a second message, and half of a third
  client.write(a.subarray(7));
  while (kept.length < 3) await new Promise((r) => setTimeout(r, 5));
  t.same(kept.map((m) => m.toString('hex')), [a, b, a].map((m) => m.toString('hex')));
});

t.test('the largest legal messages, back to back past the shared buffer, arrive whole', async (t) => {
  const { client, accepted } = await pair(t);
  const framer = new Framer({ maxMessageLength: 65_535 }); // RFC 8654 extended messages
  const kept: Buffer[] = [];
  readDirect(accepted, (c) => { for (const m of framer.push(c, true)) kept.push(m); });
  // UPDATE-typed messages of 65 535 and 4 096 octets with a distinct body each, and KEEPALIVEs
  // between them: 5 of the largest fill the 64 KiB read buffer five times over
  const big = (len: number, fill: number): Buffer => {
    const m = Buffer.alloc(len, fill);
    m.fill(0xff, 0, 16);
    m.writeUInt16BE(len, 16);
    m[18] = 2;
    return m;
  };
  const sent = [big(65_535, 1), keepalive(), big(4_096, 2), big(65_535, 3), keepalive(), big(65_535, 4), big(65_535, 5), big(4_096, 6), big(65_535, 7)];
  client.write(Buffer.concat(sent));
  while (kept.length < sent.length) await new Promise((r) => setTimeout(r, 5));
  t.equal(kept.length, sent.length, 'every message, no more');
  sent.forEach((m, i) => t.ok(kept[i]!.equals(m), `message ${i} (${m.length} octets) intact`));
});

t.test('pause stops reading, resume reads again; end and close still come', async (t) => {
  const { client, accepted } = await pair(t);
  const got: string[] = [];
  readDirect(accepted, (c) => got.push(c.toString()));
  accepted.pause();
  client.write('held');
  await new Promise((r) => setTimeout(r, 100));
  t.same(got, [], 'nothing read while paused');
  accepted.resume();
  while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
  t.same(got, ['held']);
  const closed = once(accepted, 'close');
  client.end();
  await closed;
  t.pass('closed after the peer ended');
});

t.test('another Duplex is left to its data events', async (t) => {
  t.equal(readDirect(new PassThrough(), () => undefined), false);
});

t.test('a transient chunk: returned messages are copies, not views', async (t) => {
  const chunk = Buffer.concat([keepalive(), keepalive()]);
  const out = new Framer().push(chunk, true);
  chunk.fill(0);
  t.equal(out.length, 2);
  for (const m of out) t.equal(m.toString('hex'), keepalive().toString('hex'));
});
