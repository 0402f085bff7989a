// PURE rendering of one Calico rule into nft rule text (render.ts's policy and profile
// chains): one nft rule per address family the rule can match and per combination of its
// numeric and named port alternatives; selectors and named ports become references to the
// sets `tern-s4/s6-<id>` and `tern-n4/n6-<id>`, recorded in the context so the table renders
// only the sets some rule uses.
//
// Invariant: the text depends on the rule and the context's pass mark and Allow verdict only.
import type { AclRule, EntityMatch, IpVersion, NamedPortSet, PortRange } from './rules.js';
import { PROTOCOLS } from './rules.js';
import { quote } from './script.js';

export const setName = (v: IpVersion, id: string): string => `tern-s${v}-${id}`;
export const namedSetName = (v: IpVersion, id: string): string => `tern-n${v}-${id}`;

export const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** What rendering a rule reads and records: render.ts's context satisfies it. */
export interface RuleCtx {
  readonly opts: { readonly passMark: number };
  /** Selector sets and named-port sets the rendered rules refer to. */
  readonly usedSets: Set<string>;
  readonly usedNamed: Set<string>;
  /** The Allow verdict; `accept` unless a host endpoint stage needs more (render-host.ts). */
  readonly allow?: string;
}

function verdict(ctx: RuleCtx, r: AclRule, chain: string, role: 'policy' | 'profile'): string {
  switch (r.action) {
    case 'Allow': return ctx.allow ?? 'accept';
    case 'Deny': return 'drop';
    case 'Log': return `log prefix ${quote(`${chain.slice(0, 100)} r${r.index}: `)}`;
    case 'Pass': return role === 'profile' ? 'return' : `meta mark set meta mark | ${hex(ctx.opts.passMark)} return`;
  }
}

type PortAlt = { readonly ranges: readonly PortRange[] } | { readonly named: NamedPortSet } | null;

/** A side's port alternatives: numeric ports and named ports match either (two nft rules). */
function portAlts(e: EntityMatch): PortAlt[] {
  const out: PortAlt[] = [];
  if (e.ports) out.push({ ranges: e.ports });
  if (e.namedPorts) out.push({ named: e.namedPorts });
  return out.length > 0 ? out : [null];
}

/**
 * One nft rule per address family the rule can match (family-free rules render once), and
 * per combination of numeric/named port alternatives of its two sides.
 */
export function ruleLines(ctx: RuleCtx, r: AclRule, chain: string, role: 'policy' | 'profile'): string[] {
  const out: string[] = [];
  for (const sp of portAlts(r.source)) {
    for (const dp of portAlts(r.destination)) {
      const named = (sp && 'named' in sp) || (dp && 'named' in dp);
      const tail = [...protoParts(r, sp, dp), verdict(ctx, r, chain, role)];
      const familySpecific = named || [r.source, r.destination].some((e) => e.nets || e.notNets || e.selector || e.notSelector);
      if (!familySpecific && r.families.size === 2) {
        out.push(tail.join(' '));
        continue;
      }
      for (const v of [4, 6] as const) {
        if (!r.families.has(v)) continue;
        const addr = [
          ...addrParts(ctx, r.source, v, 'saddr'), ...namedPart(ctx, r, sp, v, 'saddr', 'sport'),
          ...addrParts(ctx, r.destination, v, 'daddr'), ...namedPart(ctx, r, dp, v, 'daddr', 'dport'),
        ];
        const head = addr.length > 0 ? addr : [`meta nfproto ipv${v}`];
        out.push([...head, ...tail].join(' '));
      }
    }
  }
  return out;
}

function namedPart(ctx: RuleCtx, r: AclRule, alt: PortAlt, v: IpVersion, field: 'saddr' | 'daddr', port: 'sport' | 'dport'): string[] {
  if (!alt || !('named' in alt)) return [];
  ctx.usedNamed.add(alt.named.id);
  const l4 = r.protocol === PROTOCOLS.udp ? 'udp' : r.protocol === PROTOCOLS.sctp ? 'sctp' : 'tcp';
  return [`${v === 4 ? 'ip' : 'ip6'} ${field} . ${l4} ${port} @${namedSetName(v, alt.named.id)}`];
}

export function setLiteral(items: readonly string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

function addrParts(ctx: RuleCtx, e: EntityMatch, v: IpVersion, field: 'saddr' | 'daddr'): string[] {
  const proto = v === 4 ? 'ip' : 'ip6';
  const pick = (n: { v4: readonly string[]; v6: readonly string[] }): readonly string[] => (v === 4 ? n.v4 : n.v6);
  const out: string[] = [];
  if (e.nets) out.push(`${proto} ${field} ${setLiteral(pick(e.nets))}`);
  const notNets = e.notNets ? pick(e.notNets) : [];
  if (notNets.length > 0) out.push(`${proto} ${field} != ${setLiteral(notNets)}`);
  if (e.selector) {
    ctx.usedSets.add(e.selector.id);
    out.push(`${proto} ${field} @${setName(v, e.selector.id)}`);
  }
  if (e.notSelector) {
    ctx.usedSets.add(e.notSelector.id);
    out.push(`${proto} ${field} != @${setName(v, e.notSelector.id)}`);
  }
  return out;
}

function portSet(ps: readonly PortRange[]): string {
  return setLiteral(ps.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)));
}

function protoParts(r: AclRule, sp: PortAlt, dp: PortAlt): string[] {
  const out: string[] = [];
  if (r.protocol !== null) out.push(`meta l4proto ${r.protocol}`);
  if (r.notProtocol !== null) out.push(`meta l4proto != ${r.notProtocol}`);
  for (const [e, alt, dir] of [[r.source, sp, 'sport'], [r.destination, dp, 'dport']] as const) {
    if (alt && 'ranges' in alt) out.push(`th ${dir} ${portSet(alt.ranges)}`);
    if (e.notPorts) out.push(`th ${dir} != ${portSet(e.notPorts)}`);
  }
  const icmpProto = r.protocol === PROTOCOLS.icmpv6 ? 'icmpv6' : 'icmp';
  if (r.icmp) out.push(`${icmpProto} type ${r.icmp.type}` + (r.icmp.code === undefined ? '' : ` ${icmpProto} code ${r.icmp.code}`));
  if (r.notIcmp) {
    out.push(r.notIcmp.code === undefined
      ? `${icmpProto} type != ${r.notIcmp.type}`
      : `${icmpProto} type . ${icmpProto} code != { ${r.notIcmp.type} . ${r.notIcmp.code} }`);
  }
  return out;
}
