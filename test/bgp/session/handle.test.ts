// PeerHandle (what the Adj-RIB-Out writes through; restartSession for a configuration
// change) and inbound UPDATE delivery, including
// RFC 7606 treat-as-withdraw downgrades that keep the session up.
import t from 'tap';
import { once } from 'node:events';
import { RawPeer, cap, emptyUpdateMsg, keepaliveMsg, message, openMsg, parseOpen } from '../../helpers/raw-peer.js';
import { establishedSpeaker, notificationHex, peerSpec, rawEstablished, startSpeaker, withInfo } from './fixtures.js';
import type { PeerHandle } from '../../../src/bgp/session/peer.js';
import type { UpdateMessage } from '../../../src/bgp/wire/types.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');


t.test('write() sends pre-encoded messages, counts them, and drops them once down', async (t) => {
  const { speaker, raw, h } = await establishedSpeaker(t);
  const before = speaker.status()[0]!.counters;
  t.equal(h.write(Buffer.concat([emptyUpdateMsg(), emptyUpdateMsg()])), true);
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), emptyUpdateMsg().toString('hex'));
  t.equal((await raw.nextNonKeepalive()).type, 2);
  const after = speaker.status()[0]!.counters;
  t.equal(after.messagesOut - before.messagesOut, 2);
  t.equal(after.updatesOut - before.updatesOut, 2);
  t.equal(h.send({ type: 'routeRefresh', afi: 1, safi: 1, subtype: 0 }), true);
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), 'ff'.repeat(16) + '0017' + '05' + '0001' + '00' + '01');
  const down = once(speaker, 'down');
  raw.close();
  await down;
  t.equal(h.negotiated, null);
  t.equal(h.write(emptyUpdateMsg()), true, 'dropped without a session');
});

t.test('inbound UPDATE is delivered; a malformed MED is treat-as-withdraw and the session stays up', async (t) => {
  const { speaker, raw } = await establishedSpeaker(t);
  const good = hex(`0000 0015
    40 01 01 00              # ORIGIN IGP
    40 02 00                 # AS_PATH empty (iBGP)
    40 03 04 0a000002        # NEXT_HOP 10.0.0.2
    40 05 04 00000064        # LOCAL_PREF 100
    18 0af401                # 10.244.1.0/24`.replace(/#.*$/gm, ''));
  const got = once(speaker, 'update');
  raw.send(message(2, good));
  const [, msg] = (await got) as [PeerHandle, UpdateMessage];
  t.same(msg.nlri, [{ prefix: '10.244.1.0/24' }]);
  t.equal(msg.attributes.nextHop, '10.0.0.2');
  t.notOk(msg.treatAsWithdraw);

  const badMed = hex(`0000 001b
    40 01 01 00  40 02 00  40 03 04 0a000002  40 05 04 00000064
    80 04 03 000001          # MED with length 3: RFC 7606 §7.4 treat-as-withdraw
    18 0af402`.replace(/#.*$/gm, ''));
  const two = new Promise<UpdateMessage[]>((resolve) => {
    const seen: UpdateMessage[] = [];
    const on = (_h: PeerHandle, m: UpdateMessage) => {
      seen.push(m);
      if (seen.length === 2) { speaker.off('update', on); resolve(seen); }
    };
    speaker.on('update', on);
  });
  raw.send(message(2, badMed), message(2, badMed));
  for (const m of await two) {
    t.equal(m.treatAsWithdraw, true);
    t.same(m.nlri, [{ prefix: '10.244.2.0/24' }]);
  }
  const st = speaker.status()[0]!;
  t.equal(st.state, 'up');
  t.equal(st.counters.updateErrors, 2);
  t.equal(st.counters.updatesIn, 3);
});

t.test('pauseInput holds inbound UPDATEs back (real TCP socket) until resumeInput', async (t) => {
  const { speaker, raw, h } = await establishedSpeaker(t);
  const update = hex('0000 0015 40010100 400200 4003040a000002 40050400000064 180af401');
  const seen: UpdateMessage[] = [];
  speaker.on('update', (_h: PeerHandle, m: UpdateMessage) => void seen.push(m));
  h.pauseInput();
  raw.send(message(2, update));
  await new Promise((r) => setTimeout(r, 150));
  t.equal(seen.length, 0, 'not read while paused');
  t.equal(speaker.status()[0]!.state, 'up');
  const got = once(speaker, 'update');
  h.resumeInput();
  await got;
  t.equal(seen.length, 1, 'read once resumed');
  t.same(seen[0]!.nlri, [{ prefix: '10.244.1.0/24' }]);
});

t.test('our OPEN carries GR R/F bits and ADD-PATH; status is "wait" while we are restarting', async (t) => {
  const { speaker, port } = await startSpeaker({ gracefulRestart: { restarting: true, forwardingPreserved: true } });
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec({ addPath: true, localAs: 4200000001, peerAs: 4200000001 })]);
  const up = once(speaker, 'established');
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  t.teardown(() => raw.close());
  const ours = parseOpen(await raw.next());
  t.equal(ours.myAs, 23456, 'AS_TRANS');
  const capHex = (code: number) => ours.caps.find((c) => c.code === code)?.value.toString('hex');
  t.equal(capHex(64), 'c078' + '0001' + '01' + '80', 'R and N bits (RFC 8538) + 120 s; IPv4 unicast with F bit');
  t.equal(capHex(65), 'fa56ea01', '4-octet AS 4200000001');
  t.equal(capHex(69), '0001' + '01' + '03', 'ADD-PATH both for IPv4 unicast');
  t.equal(capHex(1), '0001' + '00' + '01');
  raw.send(openMsg({ myAs: 4200000001, holdTime: 90, bgpId: '10.0.0.2', caps: [cap.mp(1), cap.fourOctetAs(4200000001), cap.addPath(1, 3)] }), keepaliveMsg());
  const [h] = (await up) as [PeerHandle];
  t.same([...(h.negotiated?.addPathSend ?? [])], ['ipv4']);
  t.same([...(h.negotiated?.addPathReceive ?? [])], ['ipv4']);
  t.match(withInfo(speaker.status()[0]), { state: 'wait', bgpState: 'Established', info: 'Established' });
  const changed = once(speaker, 'stateChange');
  speaker.setGracefulRestartState({ restarting: false, forwardingPreserved: true });
  await changed;
  t.equal(speaker.status()[0]?.state, 'up');
});

t.test('ROUTE-REFRESH for a negotiated family is delivered; for another family ignored (RFC 2918 §4)', async (t) => {
  const { speaker, raw } = await establishedSpeaker(t);
  const seen: number[] = [];
  speaker.on('routeRefresh', (_h, m) => seen.push(m.afi));
  const got = once(speaker, 'routeRefresh');
  raw.send(message(5, hex('0002 00 01')), message(5, hex('0001 00 01'))); // IPv6 (not negotiated), then IPv4
  await got;
  t.same(seen, [1]);
  t.equal(speaker.status()[0]?.state, 'up');
});

t.test('without listenAddress the listener is dual-stack and accepts IPv4 peers', async (t) => {
  const { speaker, port } = await startSpeaker({ listenAddress: undefined });
  t.teardown(() => speaker.stop());
  speaker.setPeers([peerSpec()]);
  const raw = await rawEstablished(speaker, port);
  t.teardown(() => raw.close());
  t.equal(speaker.status()[0]?.state, 'up');
});

t.test('restartSession(): Cease 6/6 to the peer, down as configChanged, and the session comes back on the same handle', async (t) => {
  const { speaker, port, raw, h } = await establishedSpeaker(t);
  const down = once(speaker, 'down');
  h.restartSession();
  t.equal((await raw.nextNonKeepalive()).raw.toString('hex'), notificationHex(6, 6), 'Cease 6/6, other configuration change (RFC 4486)');
  const [downHandle, reason] = (await down) as [PeerHandle, string];
  t.equal(downHandle, h);
  t.equal(reason, 'configChanged');
  t.equal(h.negotiated, null, 'down');
  // Still configured: the peer's next connection is accepted and reaches Established.
  const up = once(speaker, 'established');
  const again = await rawEstablished(speaker, port);
  t.teardown(() => again.close());
  const [upHandle] = (await up) as [PeerHandle];
  t.equal(upHandle, h, 'the same handle');
  t.ok(h.negotiated, 'up again');
  t.equal(speaker.status().length, 1);
});
