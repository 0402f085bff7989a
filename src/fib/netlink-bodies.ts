// Route bodies as the request socket sends them: devices named by a next hop resolved to
// ifindexes from the links seen (dumps and notifications), and per body its IPv4 messages
// for replace, create and remove, with the prefix and sequence number left to fill.
//
// FibSync's bodies are interned forms, so both caches hold one entry per distinct route
// shape, not per route; the resolved bodies are forgotten whenever a link is learned or goes.
import { constants as osConstants } from 'node:os';
import type { KernelError } from '../util/errors.js';
import type { Link, RouteBody } from './kernel.js';
import { ipv4RouteTemplate, type RouteOp } from './netlink-codec.js';
import { kernelErrorFor } from './netlink-errors.js';

/** Some next hop names its device without an ifindex. */
function needsIfindex(r: RouteBody): boolean {
  const hops = r.nextHops;
  for (let i = 0; i < hops.length; i++) if (hops[i]!.ifindex === undefined && hops[i]!.dev !== undefined) return true; // indexed: frozen list
  return false;
}

export class RouteBodies {
  private readonly ifindexByName = new Map<string, number>();
  /** Route bodies with their devices resolved to ifindexes, per body given. */
  private resolved = new WeakMap<RouteBody, RouteBody>();
  /** Per route body as sent (interned forms, or their resolved copies above): its IPv4 templates. */
  private readonly templates = new WeakMap<RouteBody, (Buffer | undefined)[]>();

  /** The links of a dump. */
  setLinks(links: readonly Link[]): void {
    for (const l of links) this.ifindexByName.set(l.name, l.ifindex);
    this.resolved = new WeakMap();
  }

  /** A link notification: `present` (RTM_NEWLINK) or gone (RTM_DELLINK). */
  link(l: Link, present: boolean): void {
    if (present) this.ifindexByName.set(l.name, l.ifindex);
    else if (this.ifindexByName.get(l.name) === l.ifindex) this.ifindexByName.delete(l.name);
    this.resolved = new WeakMap();
  }

  /** `r` with every device resolved to its ifindex; ENODEV when a device is not known. */
  withIfindex(prefix: string, r: RouteBody): RouteBody | KernelError {
    if (!needsIfindex(r)) return r;
    const hit = this.resolved.get(r);
    if (hit) return hit;
    const nextHops = [];
    for (const nh of r.nextHops) {
      if (nh.ifindex !== undefined || nh.dev === undefined) { nextHops.push(nh); continue; }
      const ifindex = this.ifindexByName.get(nh.dev);
      if (ifindex === undefined) return kernelErrorFor(osConstants.errno.ENODEV, `no device ${nh.dev}`, { prefix, dev: nh.dev });
      nextHops.push({ ...nh, ifindex });
    }
    const out = { ...r, nextHops };
    this.resolved.set(r, out);
    return out;
  }

  /** The IPv4 message template of `op` for this (resolved) body, made on its first write. */
  template(op: RouteOp, r: RouteBody): Buffer {
    let t = this.templates.get(r);
    if (!t) { t = [undefined, undefined, undefined]; this.templates.set(r, t); }
    const i = op === 'replace' ? 0 : op === 'create' ? 1 : 2;
    return t[i] ??= ipv4RouteTemplate(op, r);
  }
}
