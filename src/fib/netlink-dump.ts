// Dumps (RTM_GETROUTE / RTM_GETLINK with NLM_F_DUMP) over NetlinkKernel's request socket, next
// to its pipelined writes: each dump is one request whose answer is many datagrams, ended by
// NLMSG_DONE (or an NLMSG_ERROR), matched to its request by sequence number.
//
// A socket runs one dump at a time (a second one gets EBUSY), so dumps are chained. A dump
// after the notification subscription waits for it to be in place, so nothing that changes
// meanwhile is missed. A dump the kernel marks NLM_F_DUMP_INTR (the table changed while it
// ran) is run again.
import { KernelError } from '../util/errors.js';
import { encodeDumpRequest, errnoOf, NlMsgType, NlmFlag, type NlMessage } from './netlink-codec.js';
import { guard, kernelErrorFor } from './netlink-errors.js';

export type DumpKind = 'route' | 'link';

interface Dump {
  kind: DumpKind;
  out: Buffer[];
  resolve(msgs: Buffer[]): void;
  reject(e: Error): void;
  interrupted: boolean;
}

/** What the dumps need of the request socket's owner. */
export interface DumpSocket {
  send(datagram: Buffer, done: (err: (Error & { errno?: number }) | null | undefined) => void): void;
  nextSeq(): number;
  /** The socket is closed: dumps are refused. */
  closed(): boolean;
  /** Resolves once the notification subscription is in place (undefined: none). */
  subscribed(): Promise<void> | undefined;
  /** A dump started (true) or the last one running ended (false). */
  busy(on: boolean): void;
}

export class Dumps {
  private readonly running = new Map<number, Dump>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly socket: DumpSocket) {}

  /** Dumps running (answers to read). */
  get size(): number { return this.running.size; }

  /** The messages of a dump of `kind`, each a Buffer of its own (the rtmsg / ifinfomsg and attributes). */
  run(kind: DumpKind): Promise<Buffer[]> {
    const run = this.chain.then(() => this.socket.subscribed()).then(() => this.start(kind));
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }

  private start(kind: DumpKind): Promise<Buffer[]> {
    if (this.socket.closed()) return Promise.reject(new KernelError('ERR_FIB_CLOSED', 'netlink kernel closed'));
    return new Promise<Buffer[]>((resolve, reject) => {
      const seq = this.socket.nextSeq();
      this.running.set(seq, { kind, out: [], resolve, reject, interrupted: false });
      this.socket.busy(true);
      this.socket.send(encodeDumpRequest(kind, 'all', seq), (err) => guard(() => {
        if (err && this.running.delete(seq)) reject(kernelErrorFor(err.errno ?? 0, `${kind} dump failed`));
      }));
    });
  }

  /**
   * A message read from the socket: taken (true) when it belongs to a dump running. Its data
   * is kept: the datagram it was read from must be the caller's own copy.
   */
  take(m: NlMessage): boolean {
    const d = this.running.get(m.seq);
    if (!d) return false;
    if (m.flags & NlmFlag.DUMP_INTR) d.interrupted = true;
    if (m.type === NlMsgType.DONE || m.type === NlMsgType.ERROR) {
      this.running.delete(m.seq);
      this.idle();
      const errno = m.type === NlMsgType.ERROR ? errnoOf(m) : 0;
      if (errno !== 0) d.reject(kernelErrorFor(errno, `${d.kind} dump failed`));
      else if (d.interrupted) this.start(d.kind).then(d.resolve, d.reject); // the table changed during the dump: again
      else d.resolve(d.out);
      return true;
    }
    d.out.push(m.data);
    return true;
  }

  /** Every dump running fails with `err` (the socket failed or closed). */
  failAll(err: Error): void {
    for (const d of this.running.values()) d.reject(err);
    this.running.clear();
  }

  private idle(): void {
    if (this.running.size === 0) this.socket.busy(false);
  }
}
