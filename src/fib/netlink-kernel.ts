// KernelRoutes over rtnetlink: the FIB syncer's Linux side, with the other netlink-*.ts files.
//
// Sockets (NETLINK_ROUTE):
// - `req`: writes and dumps, opened through libc and read by the event loop
//   (netlink-request.ts: one send(2) per datagram, answers read into one buffer; npm
//   `netlink`'s RawNetlinkSocket where Node lacks the pipe handle, or with loopRequests false).
//   Writes are pipelined: requests queue, are packed many to one
//   datagram (one sendmsg, up to BATCH_MESSAGES or BATCH_BYTES; an IPv4 route's message is
//   written straight into the datagram from its template, no Buffer of its own) and several datagrams may be
//   unanswered at once (MAX_BATCHES_IN_FLIGHT). Only the last message of a datagram carries
//   NLM_F_ACK: the kernel processes a datagram's messages in order inside sendmsg and answers
//   any failing one with an NLMSG_ERROR even without NLM_F_ACK (netlink_rcv_skb), so when the
//   barrier's answer arrives every earlier message of the datagram without an error succeeded.
//   Errors are matched to their request by sequence number. This keeps the receive queue
//   small (one ACK per datagram instead of one per route) so it cannot overrun.
// - `events`: multicast RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, opened through
//   libc and read by the event loop (netlink-notify.ts): a 32 MiB receive buffer, and an
//   overrun seen as ENOBUFS is reported through onLost so the caller dumps again. (netlink@0.3.0 cannot own
//   this socket: its poll handler aborts the process on an overrun.)
// Our own writes' notifications (stamped with `req`'s port id) are dropped in the kernel by a
// socket filter on `events` (NotifySocket.ignoreSender): a write costs no notification to
// read, and a burst of them cannot overrun the socket. Where the filter cannot be attached
// they come back, and writes are paced (EVENT_BACKLOG) so they alone cannot overrun it.
// Exceptions in our handlers are caught (`guard`, netlink-errors.ts): one escaping a native
// callback would abort the process too. Route bodies are resolved and encoded through
// netlink-bodies.ts; dumps, which share `req` with the writes, run through netlink-dump.ts.
import { rawNetlinkSocket } from '../runtime/netlink-raw.js';
import { KernelError } from '../util/errors.js';
import { parseIpv4Prefix } from '../net/prefix.js';
import type { KernelRoute, KernelRoutes, Link, RouteBody, WriteAnswer } from './kernel.js';
import { NotifySocket, NOTIFY_RCVBUF } from './netlink-notify.js';
import { openRequestSocket, type RequestSocket } from './netlink-request.js';
import { soon } from '../util/soon.js';
import {
  decodeLink, decodeRoute, encodeRouteMessage, errnoOf, NlMsgType, NlmFlag,
  RtmType, splitMessages, writeFromIpv4Template, type RouteOp,
} from './netlink-codec.js';
import { answerLater, guard, guardFailed, kernelErrorFor } from './netlink-errors.js';
import { RouteBodies } from './netlink-bodies.js';
import { Dumps } from './netlink-dump.js';

export { kernelErrorFor, netlinkHandlerErrors } from './netlink-errors.js';

const NETLINK_ROUTE = 0;
const NLMSG_HDRLEN = 16;
const BATCH_MESSAGES = 512;
const BATCH_BYTES = 60 * 1024;
const MAX_BATCHES_IN_FLIGHT = 4;
const RCVBUF = 4 * 1024 * 1024;
/**
 * Without the echo filter our own writes come back as notifications on the event socket.
 * Writes are then paced so that at most this many of their notifications can be waiting
 * unread: they alone never overrun it (an overrun costs a full re-dump).
 */
const EVENT_BACKLOG = 2048;
const STALL_MS = 500;

interface Pending {
  seq: number;
  /** The message; with `v4` ≥ 0, the IPv4 template it is made from when the datagram is (writeFromIpv4Template). */
  msg: Buffer;
  /** parseIpv4Prefix's number of the prefix (−1: `msg` is the whole message). */
  v4: number;
  barrier: boolean;
  settled: boolean;
  done: WriteAnswer;
  prefix: string;
  route: RouteBody;
}

export class NetlinkKernel implements KernelRoutes {
  private readonly req: RequestSocket;
  /** req is netlink-request.ts's loop-read socket, not npm `netlink`'s RawNetlinkSocket (the fallback). */
  private readonly reqReadByLoop: boolean;
  private events?: NotifySocket;
  private seq = 1;
  /** Requests not yet sent: queue[queueHead..]. */
  private queue: Pending[] = [];
  private queueHead = 0;
  /**
   * Requests sent and not yet answered: inflight[inflightHead..], in the order sent (so in
   * the order the kernel answers them). An answer is matched by a scan from the head: it is
   * within the batches in flight, and an array walk is cheaper than a Map entry per route.
   */
  private inflight: Pending[] = [];
  private inflightHead = 0;
  private batchesInFlight = 0;
  private flushScheduled = false;
  /** Our writes' notifications are dropped in the kernel (no pacing needed). */
  private echoesFiltered = false;
  /** Pacing against the event socket when they are not (see EVENT_BACKLOG). */
  private writesOk = 0;
  private eventsSeen = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private onLost: (() => void) | undefined;
  private eventsReady = false;
  /** Dumps running on `req` (netlink-dump.ts). */
  private readonly dumps: Dumps;
  /** Devices resolved to ifindexes, IPv4 message templates. */
  private readonly bodies = new RouteBodies();
  private closed = false;
  private held = false; // the request socket is ref'd (hold)

  constructor(private readonly opts: {
    notifyRcvBuf?: number;
    /** Drop our own writes' notifications in the kernel (default true; false: the fallback). */
    filterOwnEchoes?: boolean;
    /** Wait for notifications on the poll(2) thread even where the loop can read them (the fallback). */
    notifyPollThread?: boolean;
    /** Writes and dumps through the loop-read socket where Node allows it (default true); false: npm `netlink`'s. */
    loopRequests?: boolean;
  } = {}) {
    const own = this.opts.loopRequests !== false ? openRequestSocket(NETLINK_ROUTE, RCVBUF) : undefined;
    this.reqReadByLoop = own !== undefined;
    this.req = own ?? new (rawNetlinkSocket())(NETLINK_ROUTE, { recvBufferSize: RCVBUF, sendBufferSize: RCVBUF });
    // an exception escaping a native callback aborts the process: never let one out
    this.req.on('message', (buf) => guard(() => this.onReqMessage(buf)));
    this.req.on('error', (err) => guard(() => this.failAll(kernelErrorFor(err.errno ?? 0, 'netlink socket error'))));
    this.req.unref();
    this.dumps = new Dumps({
      send: (datagram, done) => this.req.send(datagram, {}, done),
      nextSeq: () => this.nextSeq(),
      closed: () => this.closed,
      subscribed: () => this.events?.ready,
      busy: (on) => { if (on) this.hold(true); else if (this.batchesInFlight === 0) this.hold(false); },
    });
  }

  /** Keeps the loop alive while requests are in flight; a watched notification socket does that already (no native call per write). */
  private hold(on: boolean): void {
    const ref = on && this.events === undefined;
    if (this.held !== ref) { this.held = ref; if (ref) this.req.ref(); else this.req.unref(); }
  }

  async dump(): Promise<KernelRoute[]> {
    const out: KernelRoute[] = [];
    for (const data of await this.dumps.run('route')) {
      const r = decodeRoute(data);
      if (r) out.push(r);
    }
    return out;
  }

  async links(): Promise<Link[]> {
    const out: Link[] = [];
    for (const data of await this.dumps.run('link')) {
      const l = decodeLink(data);
      if (l) out.push(l);
    }
    this.bodies.setLinks(out);
    return out;
  }

  replace(r: KernelRoute, exclusive = false): Promise<void> { return this.promised(exclusive ? 'create' : 'replace', r); }
  remove(r: KernelRoute): Promise<void> { return this.promised('remove', r); }

  // Functions run per route make no closure, not even on a path they seldom take: a closure
  // that captures a local makes V8 allocate that function's context on every call.
  write(op: RouteOp, prefix: string, v4: number, r: RouteBody, done: WriteAnswer): void {
    if (this.closed) { answerLater(done, new KernelError('ERR_FIB_CLOSED', 'netlink kernel closed'), prefix); return; }
    // a delete names the route observed (its next hops with their ifindexes)
    const route = op !== 'remove' ? this.bodies.withIfindex(prefix, r) : r;
    if (route instanceof KernelError) { answerLater(done, route, prefix); return; }
    const seq = this.nextSeq();
    const at = route.family === 'ipv4' ? v4 : -1; // parsed by the caller (KernelRoutes.write)
    const msg = at >= 0 ? this.bodies.template(op, route) : encodeRouteMessage(op, prefix, route, seq, false);
    this.queue.push({ seq, msg, v4: at, barrier: false, settled: false, done, prefix, route });
    this.scheduleFlush();
  }

  watch(
    onRoute: (r: KernelRoute, present: boolean, replaced?: boolean) => void,
    onLink: (l: Link, present: boolean) => void,
    onLost?: () => void,
  ): void {
    if (this.events) throw new Error('NetlinkKernel.watch called twice');
    this.events = new NotifySocket((buf, start, end) => guard(() => {
      // messages read in place (one notification per route: no views, no message objects)
      for (let off = start; off + NLMSG_HDRLEN <= end;) {
        const len = buf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > end) break;
        const type = buf.readUInt16LE(off + 4);
        if (type === RtmType.NEWROUTE || type === RtmType.DELROUTE) {
          const r = decodeRoute(buf, off + NLMSG_HDRLEN, off + len);
          this.eventsSeen++;
          if (r) onRoute(r, type === RtmType.NEWROUTE, (buf.readUInt16LE(off + 6) & NlmFlag.REPLACE) !== 0);
        } else if (type === RtmType.NEWLINK || type === RtmType.DELLINK) {
          const l = decodeLink(buf.subarray(off + NLMSG_HDRLEN, off + len));
          if (l) {
            this.bodies.link(l, type === RtmType.NEWLINK);
            onLink(l, type === RtmType.NEWLINK);
          }
        }
        off += (len + 3) & ~3;
      }
      if (this.queue.length > this.queueHead) this.scheduleFlush(); // paced writes may go on
    }), () => guard(() => {
      this.eventsSeen = this.writesOk; // what overran is not coming
      onLost?.();
    }), this.opts.notifyRcvBuf ?? NOTIFY_RCVBUF, this.opts.notifyPollThread !== true);
    this.onLost = onLost;
    this.echoesFiltered = this.opts.filterOwnEchoes !== false && this.events.ignoreSender(this.req.address().port);
    // writes wait for the subscription too: their notifications are what pacing counts
    void this.events.ready.then(() => { this.eventsReady = true; this.scheduleFlush(); });
  }

  /** Notification overruns seen since start (each one re-dumped). */
  get notificationsLost(): number { return this.events?.lost ?? 0; }
  /** Notification datagrams read since start (our own writes' are not, when filtered). */
  get notificationsRead(): number { return this.events?.received ?? 0; }
  /** Notification sockets opened since start (a new one after an overrun the loop saw). */
  get notificationSockets(): number { return this.events?.opened ?? 0; }
  /** The event loop reads the notification socket itself (no poll thread). */
  get notificationsReadByLoop(): boolean { return this.events?.readByLoop ?? false; }
  /** Writes and dumps go through the loop-read request socket (netlink-request.ts), not npm `netlink`'s. */
  get requestsReadByLoop(): boolean { return this.reqReadByLoop; }
  /** The notifications of our own writes are dropped in the kernel. */
  get ownEchoesFiltered(): boolean { return this.echoesFiltered; }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new KernelError('ERR_FIB_CLOSED', 'netlink kernel closed'));
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.req.close();
    this.events?.close();
  }

  // --- writes -------------------------------------------------------------------------

  private promised(op: RouteOp, r: KernelRoute): Promise<void> {
    return new Promise<void>((resolve, reject) => this.write(op, r.prefix, parseIpv4Prefix(r.prefix), r, (e) => (e ? reject(e) : resolve())));
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    return s;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    soon(this.flushSoon);
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** How many more writes may be sent before their notifications could overrun. */
  private eventRoom(): number {
    if (!this.events || this.echoesFiltered) return Infinity;
    if (!this.eventsReady) return 0;
    return EVENT_BACKLOG - Math.max(0, this.writesOk - this.eventsSeen) - (this.inflight.length - this.inflightHead);
  }

  /**
   * Paced and nothing in flight, yet the notifications of our writes stopped coming: they were
   * never sent (a replace that changed nothing) or lost on the way (seen under heavy load).
   * Either way stop waiting for them, and report a possible loss so the watcher dumps again.
   */
  private armStall(): void {
    if (this.stallTimer || this.batchesInFlight > 0) return;
    const seen = this.eventsSeen;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.eventsSeen === seen && this.writesOk > this.eventsSeen) {
        this.eventsSeen = this.writesOk;
        guard(() => this.onLost?.());
      }
      this.flush();
    }, STALL_MS);
  }

  private flush(): void {
    while (this.queue.length > this.queueHead && this.batchesInFlight < MAX_BATCHES_IN_FLIGHT && !this.closed) {
      const room = Math.min(BATCH_MESSAGES, this.eventRoom());
      if (room <= 0) { if (this.eventsReady) this.armStall(); return; }
      const batch: Pending[] = [];
      let bytes = 0;
      let i = this.queueHead;
      while (batch.length < room && i < this.queue.length) {
        const p = this.queue[i]!;
        if (bytes + p.msg.length > BATCH_BYTES && batch.length > 0) break;
        batch.push(p);
        bytes += p.msg.length;
        i++;
      }
      this.queueHead = i;
      if (i === this.queue.length) { this.queue = []; this.queueHead = 0; }
      else if (i > 4096 && i * 2 > this.queue.length) { this.queue = this.queue.slice(i); this.queueHead = 0; }
      const datagram = Buffer.allocUnsafe(bytes);
      let off = 0;
      let lastAt = 0;
      for (let j = 0; j < batch.length; j++) {
        const p = batch[j]!;
        lastAt = off;
        if (p.v4 >= 0) off = writeFromIpv4Template(datagram, off, p.msg, p.v4, p.seq);
        else { datagram.set(p.msg, off); off += p.msg.length; }
        this.inflight.push(p);
      }
      batch[batch.length - 1]!.barrier = true;
      datagram.writeUInt16LE(datagram.readUInt16LE(lastAt + 6) | NlmFlag.ACK, lastAt + 6);
      this.batchesInFlight++;
      this.hold(true);
      this.req.send(datagram, {}, (err) => guard(() => {
        if (err) this.failBatch(batch, kernelErrorFor(err.errno ?? 0, 'netlink sendmsg failed'));
      }));
    }
  }

  private settle(p: Pending, err?: Error): void {
    if (p.settled) return;
    p.settled = true;
    if (!err) this.writesOk++;
    try { // the caller's callback runs here: it must not break our loop (guard() without a closure per route)
      p.done(err, p.prefix);
    } catch (e) {
      guardFailed(e);
    }
  }

  /** Barrier reached: everything sent up to and including `p` is answered. */
  private completeThrough(p: Pending): void {
    while (this.inflightHead < this.inflight.length) {
      const head = this.inflight[this.inflightHead++]!;
      this.settle(head);
      if (head.barrier) this.batchesInFlight--;
      if (head === p) break;
    }
    // answered requests are let go (a burst keeps sending while earlier batches are answered)
    if (this.inflightHead === this.inflight.length) { this.inflight = []; this.inflightHead = 0; }
    else if (this.inflightHead >= BATCH_MESSAGES) { this.inflight = this.inflight.slice(this.inflightHead); this.inflightHead = 0; }
    if (this.batchesInFlight === 0 && this.dumps.size === 0) this.hold(false);
    if (this.queue.length > this.queueHead) this.scheduleFlush();
  }

  private failBatch(batch: Pending[], err: Error): void {
    for (const p of batch) this.settle(p, err);
    const last = batch[batch.length - 1];
    if (last) this.completeThrough(last);
  }

  private failAll(err: Error): void {
    for (const p of [...this.inflight.slice(this.inflightHead), ...this.queue.slice(this.queueHead)]) this.settle(p, err);
    this.inflight = [];
    this.inflightHead = 0;
    this.queue = [];
    this.queueHead = 0;
    this.batchesInFlight = 0;
    this.dumps.failAll(err);
  }

  /** The request in flight with sequence number `seq`. */
  private sent(seq: number): Pending | undefined {
    for (let i = this.inflightHead; i < this.inflight.length; i++) {
      const p = this.inflight[i]!;
      if (p.seq === seq) return p;
    }
    return undefined;
  }

  /** `buf` may be the socket's read buffer, reused after this call: a dump's datagram is copied (its messages are kept). */
  private onReqMessage(buf: Buffer): void {
    if (this.dumps.size > 0) buf = Buffer.from(buf);
    for (const m of splitMessages(buf)) {
      if (this.dumps.size > 0 && this.dumps.take(m)) continue;
      if (m.type !== NlMsgType.ERROR) continue;
      const p = this.sent(m.seq);
      if (!p) continue;
      const errno = errnoOf(m);
      if (errno !== 0) {
        const r = p.route;
        this.settle(p, kernelErrorFor(errno, `netlink ${r.type} ${p.prefix} refused`, {
          prefix: p.prefix, gateways: r.nextHops.map((nh) => nh.gateway).filter(Boolean),
        }));
      } else {
        this.settle(p);
      }
      if (p.barrier) this.completeThrough(p);
    }
  }
}
