// Harness of speaker-model.test.ts: far-end Speakers on 127.0.0.x, each configured with one
// peer (the Speaker under test at 127.0.0.1), and a record of every TCP connection between
// them: which far end, who dialed, every octet the speaker under test sent on it (split into
// BGP messages by the caller) and whether it has closed. Outgoing connections are recorded
// through the Speakers' connectFactory (the real net.connect with its TCP MD5 and TTL
// options, wrapped): the speaker under test's writes on the ones it dials, the far end's
// reads on the ones the far end dials. Any recorded activity or state change wakes `nextEvent`.
import type { Duplex } from 'node:stream';
import type { Speaker } from '../../../src/bgp/speaker.js';
import { netConnect } from '../../../src/bgp/session/transport.js';
import type { ConnectFn } from '../../../src/bgp/session/transport.js';
import type { PeerStatus } from '../../../src/bgp/session/peer.js';
import type { FakeClock } from '../../../src/util/clock.js';
import { splitBgp, type RecordedMessage } from '../../helpers/tcp-recorder.js';
import { LOCAL_AS, peerSpec, startSpeaker } from './fixtures.js';

export const SPEAKER_ADDRESS = '127.0.0.1';

export interface Conn {
  readonly id: number;
  /** Index of the far end. */
  readonly peer: number;
  readonly dialer: 'speaker' | 'far';
  /** Every octet the speaker under test sent on this connection. */
  sent: Buffer;
  closed: boolean;
}

export interface FarEndConfig {
  readonly index: number;
  readonly address: string;
  /** Its AS (the speaker's peerAs must match it). */
  readonly localAs: number;
  /** Never dials: the speaker under test must. */
  readonly passive: boolean;
  readonly password?: string;
}

export interface FarEnd extends FarEndConfig {
  speaker: Speaker;
  port: number;
  /** 'established' events of this far end (over its restarts). */
  ups: number;
}

export class Harness {
  readonly conns: Conn[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 0;

  constructor(readonly clock: FakeClock) {}

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** True when something happened within `ms` of real time, false when nothing did. */
  nextEvent(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const f = () => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => { this.waiters = this.waiters.filter((x) => x !== f); resolve(false); }, ms);
      this.waiters.push(f);
    });
  }

  /** Id the next recorded connection gets. */
  get connCount(): number {
    return this.nextId;
  }

  private record(peer: number, dialer: Conn['dialer'], sock: Duplex): Conn {
    const c: Conn = { id: this.nextId++, peer, dialer, sent: Buffer.alloc(0), closed: false };
    this.conns.push(c);
    sock.once('close', () => { c.closed = true; this.wake(); });
    return c;
  }

  /** connectFactory of the speaker under test: records what it writes. */
  speakerConnect(peerOf: (host: string) => number): ConnectFn {
    return (req) => {
      const sock = netConnect(req);
      const c = this.record(peerOf(req.host), 'speaker', sock);
      const write = sock.write.bind(sock) as (chunk: unknown, ...rest: unknown[]) => boolean;
      (sock as { write: (chunk: unknown, ...rest: unknown[]) => boolean }).write = (chunk, ...rest) => {
        c.sent = Buffer.concat([c.sent, Buffer.from(chunk as Uint8Array)]);
        this.wake();
        return write(chunk, ...rest);
      };
      return sock;
    };
  }

  /** connectFactory of far end `peer`: records what it reads (a 'data' listener: its sessions read 'data' too). */
  farConnect(peer: number): ConnectFn {
    return (req) => {
      const sock = netConnect(req);
      const c = this.record(peer, 'far', sock);
      sock.on('data', (d: Buffer) => { c.sent = Buffer.concat([c.sent, d]); this.wake(); });
      return sock;
    };
  }

  /** Starts (or restarts on its old port) far end `cfg` peering with the speaker at `speakerPort`. */
  async startFar(cfg: FarEndConfig, speakerPort: number, port = 0, ups = 0): Promise<FarEnd> {
    const { speaker, port: bound } = await startSpeaker({
      clock: this.clock, routerId: `10.0.1.${cfg.index + 1}`, listenAddress: cfg.address, listenPort: port,
      connectFactory: this.farConnect(cfg.index),
    });
    const far: FarEnd = { ...cfg, speaker, port: bound, ups };
    speaker.on('established', () => { far.ups++; this.wake(); });
    speaker.on('stateChange', () => this.wake());
    speaker.setPeers([peerSpec({
      address: SPEAKER_ADDRESS, port: speakerPort, passive: cfg.passive, sourceAddress: cfg.address,
      localAs: cfg.localAs, peerAs: LOCAL_AS, type: 'global', name: 'Global_127_0_0_1',
      ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    })]);
    return far;
  }

  /** The far end stops (Cease 6/4 on its session) and comes back on the same address and port. */
  async restartFar(far: FarEnd, speakerPort: number): Promise<FarEnd> {
    await far.speaker.stop();
    return this.startFar(far, speakerPort, far.port, far.ups);
  }
}

export const messages = (c: Conn): RecordedMessage[] => splitBgp(c.sent);
/** "code/subcode" of each NOTIFICATION the speaker sent; a Hard Reset (6/9, RFC 8538) with the Cease it carries: "6/9(6/3)". */
export const notifications = (c: Conn): string[] =>
  messages(c).filter((m) => m.type === 3).map((m) => `${m.bytes[19]}/${m.bytes[20]}${m.bytes[20] === 9 && m.bytes[19] === 6 ? `(${m.bytes[21]}/${m.bytes[22]})` : ''}`);
export const sentOpen = (c: Conn): boolean => messages(c).some((m) => m.type === 1);
export const farRow = (f: FarEnd): PeerStatus | undefined => f.speaker.status()[0];
