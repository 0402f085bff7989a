// Shared setup for session tests: PeerSpecs, Speakers on loopback with a FakeClock, and a
// raw peer already in Established.
import { once } from 'node:events';
import type { Test } from 'tap';
import { Speaker } from '../../../src/bgp/speaker.js';
import type { SpeakerOptions } from '../../../src/bgp/speaker.js';
import type { PeerSpec } from '../../../src/peering/peer-spec.js';
import { FakeClock } from '../../../src/util/clock.js';
import { createLogger, silentLogger } from '../../../src/util/log.js';
import type { PeerHandle, PeerStatus } from '../../../src/bgp/session/peer.js';
import { peerInfo } from '../../../src/api/peer-display.js';
import { RawPeer } from '../../helpers/raw-peer.js';
import type { OpenFields } from '../../helpers/raw-peer.js';

export const LOCAL_AS = 64512;

export function peerSpec(over: Partial<PeerSpec> = {}): PeerSpec {
  const address = over.address ?? '127.0.0.2';
  const port = over.port ?? 179;
  return {
    key: `${address}|${port}`, name: `Mesh_${address.replace(/\./g, '_')}`, type: 'mesh',
    address, port, family: 'ipv4', localAs: LOCAL_AS, peerAs: LOCAL_AS, passive: true, holdTime: 90,
    connectRetryTime: 5, gracefulRestartTime: 120, nextHopMode: 'auto', routeReflectorClient: false, addPath: false,
    ...over,
  };
}

export async function startSpeaker(over: Partial<SpeakerOptions> = {}): Promise<{ speaker: Speaker; clock: FakeClock; port: number }> {
  const clock = (over.clock as FakeClock | undefined) ?? new FakeClock();
  const speaker = new Speaker({ routerId: '10.0.0.1', listenPort: 0, listenAddress: '127.0.0.1', clock, logger: process.env.TERN_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(), ...over });
  await speaker.start();
  return { speaker, clock, port: speaker.port ?? 0 };
}

/** Resolves with the first status row (by key) that satisfies `pred`, checked on every stateChange. */
export function waitForStatus(speaker: Speaker, key: string, pred: (s: PeerStatus) => boolean): Promise<PeerStatus> {
  return new Promise((resolve) => {
    const check = () => {
      const s = speaker.status().find((x) => x.key === key);
      if (s && pred(s)) {
        speaker.off('stateChange', check);
        resolve(s);
      }
    };
    speaker.on('stateChange', check);
    check();
  });
}

/** A raw peer at 127.0.0.2 connects to the speaker and completes the handshake. */
export async function rawEstablished(speaker: Speaker, port: number, open: Partial<OpenFields> = {}): Promise<RawPeer> {
  const up = once(speaker, 'established');
  const raw = await RawPeer.connect({ port, localAddress: '127.0.0.2' });
  await raw.handshake({ myAs: LOCAL_AS, holdTime: 90, bgpId: '10.0.0.2', ...open });
  await up;
  return raw;
}

/**
 * A speaker with the default peer (peerSpec()) and a raw peer Established with it, both
 * stopped at the end of `t`; `h` is the speaker's handle for that peer.
 */
export async function establishedSpeaker(t: Test, open: Partial<OpenFields> = {}): Promise<{ speaker: Speaker; clock: FakeClock; port: number; raw: RawPeer; h: PeerHandle }> {
  const started = await startSpeaker();
  t.teardown(() => started.speaker.stop());
  started.speaker.setPeers([peerSpec()]);
  const up = once(started.speaker, 'established');
  const raw = await rawEstablished(started.speaker, started.port, open);
  t.teardown(() => raw.close());
  const [h] = (await up) as [PeerHandle];
  return { ...started, raw, h };
}

/** 19-octet header + body, as hex, for exact NOTIFICATION assertions. */
export function notificationHex(code: number, subcode: number, data = ''): string {
  const len = 21 + data.length / 2;
  return 'ff'.repeat(16) + len.toString(16).padStart(4, '0') + '03' + code.toString(16).padStart(2, '0') + subcode.toString(16).padStart(2, '0') + data;
}

/** A status row with calicoctl's INFO text added (rendered by src/api/peer-display.ts). */
export function withInfo(s: PeerStatus | undefined): (PeerStatus & { info: string }) | undefined {
  return s === undefined ? undefined : { ...s, info: peerInfo(s) };
}
