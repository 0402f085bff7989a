// A session's writes (transport.ts writeDirect): one send(2) on the descriptor while the
// socket's Writable holds nothing, the Writable for the rest; over real loopback sockets the
// bytes arrive whole and in order (largest legal messages, a receiver that stops reading so
// the kernel takes only part of a message), 'drain' comes as before, and a socket closed
// while writing reports its error as before. `bytesWritten` counts only what went through
// the Writable: it shows which path a write took.
import t, { type Test } from 'tap';
import * as net from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Buffer } from 'node:buffer';
import { writeDirect } from '../../../src/bgp/session/transport.js';
import { libc } from '../../../src/util/libc.js';

libc(); // what the daemon's FIB does: writeDirect uses libc once something loaded it

async function pair(t: Test): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const acc = once(server, 'connection');
  const client = net.connect({ port, host: '127.0.0.1' });
  const [accepted] = (await acc) as [net.Socket];
  if (client.connecting) await once(client, 'connect');
  t.teardown(() => { client.destroy(); accepted.destroy(); server.close(); });
  return { client, accepted };
}

/** A message of `len` octets whose every byte says which message it is (`seq`) and where in it. */
function message(seq: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (seq * 31 + i) & 0xff;
  return b;
}

/** Reads `total` octets from `sock` (started now or when `start` resolves). */
async function readAll(sock: net.Socket, total: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  sock.on('data', (c: Buffer) => { parts.push(c); got += c.length; });
  while (got < total) await once(sock, 'data');
  return Buffer.concat(parts);
}

t.test('an idle socket is written with send(2): nothing through the Writable, bytes in order', async (t) => {
  const { client, accepted } = await pair(t);
  const msgs = [19, 53, 4096, 19, 200].map((n, i) => message(i, n));
  const total = msgs.reduce((s, m) => s + m.length, 0);
  const reading = readAll(accepted, total);
  for (const m of msgs) {
    t.equal(writeDirect(client, m), true);
    await new Promise((r) => setImmediate(r));
  }
  t.same(await reading, Buffer.concat(msgs));
  t.equal(client.bytesWritten, 0, 'no byte went through the Writable');
});

t.test('the largest legal messages back to back, a receiver that does not read: the rest queues, drain, order kept', async (t) => {
  const { client, accepted } = await pair(t);
  accepted.pause(); // the kernel's buffers fill: send(2) takes part of a message, then nothing
  const msgs: Buffer[] = [];
  let full = false;
  for (let i = 0; i < 400 && !full; i++) {
    const m = message(i, i % 2 === 0 ? 65_535 : 4_096);
    msgs.push(m);
    full = !writeDirect(client, m);
  }
  t.ok(full, 'the writer was told to wait');
  t.ok(client.writableLength > 0, 'what the kernel did not take is in the Writable');
  // while the Writable holds something every write goes through it, behind the rest
  const extra = message(999, 65_535);
  msgs.push(extra);
  writeDirect(client, extra);
  const total = msgs.reduce((s, m) => s + m.length, 0);
  const drained = once(client, 'drain');
  accepted.resume();
  const got = await readAll(accepted, total);
  await drained;
  t.equal(got.length, total);
  t.ok(got.equals(Buffer.concat(msgs)), 'every octet in order');
  // idle again: direct once more
  const before = client.bytesWritten;
  const last = message(7, 19);
  const tail = readAll(accepted, 19);
  t.equal(writeDirect(client, last), true);
  t.same(await tail, last);
  t.equal(client.bytesWritten, before, 'idle again: send(2), not the Writable');
});

t.test('a socket closed by the peer while writing: the error comes from the Writable, no throw', async (t) => {
  const { client, accepted } = await pair(t);
  const errors: string[] = [];
  client.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
  accepted.resetAndDestroy();
  await once(accepted, 'close');
  // keep writing until the reset is seen (the first send may still be taken)
  for (let i = 0; i < 50 && errors.length === 0 && !client.destroyed; i++) {
    writeDirect(client, message(i, 4096));
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!client.destroyed) await once(client, 'close');
  t.ok(errors.length > 0 && ['EPIPE', 'ECONNRESET'].includes(errors[0]!), `error reported: ${errors.join(',')}`);
  t.doesNotThrow(() => writeDirect(client, message(0, 19)), 'a write after the close goes to the Writable, as before');
});

t.test('our own end: a destroyed or ended socket, and any other Duplex, use write()', async (t) => {
  const { client, accepted } = await pair(t);
  const reading = readAll(accepted, 19);
  client.end();
  const errs: unknown[] = [];
  client.on('error', (e) => errs.push(e));
  writeDirect(client, message(1, 19)); // write after end: the Writable's error, as before
  await new Promise((r) => setImmediate(r));
  t.equal(errs.length, 1, 'write after end reported by the Writable');
  void reading.catch(() => undefined);
  const pt = new PassThrough();
  const out: Buffer[] = [];
  pt.on('data', (c: Buffer) => out.push(c));
  t.equal(writeDirect(pt, message(2, 19)), true);
  await new Promise((r) => setImmediate(r));
  t.same(Buffer.concat(out), message(2, 19));
});
