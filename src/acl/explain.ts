// explain: which policy and rule decide a flow between two endpoints — egress of the source,
// then ingress of the destination — with the reason in words.
//
// This is also tern's in-process evaluator of the rendered ruleset: it walks the same
// AclModel in the same order as the chains render.ts produces (policies by order, Log
// continues, Pass jumps to profiles, drop at the end of the policies, drop when no profile
// allows), so pure tests can check semantics without a kernel.
//
// Scope: a NEW connection (conntrack accepts the return traffic of an allowed flow). Traffic
// is judged on the node of each endpoint; an address that belongs to no endpoint is external
// and has no policy of its own, except an address of the source's own node (Node resource):
// that is workload-to-host traffic, egress policy then DefaultEndpointToHostAction. The other
// way, a node's address (or its host endpoint's) to its own workload, is not policed. Tiers are
// walked in order; the notes show each tier that passed. An unknown source port never matches source ports/notPorts.
// A host endpoint (by name or an address in its expectedIPs) is judged by explain-host.ts:
// traffic to it from anything but a workload of its own node (that is workload-to-host), and
// traffic it sends. Forwarded traffic through a host endpoint is not explained (no routing here).
import type { Snapshot } from '../model/types.js';
import { addressInPrefix, canonicalAddress, familyOf, isAddress } from '../net/prefix.js';
import { DaemonError } from '../util/errors.js';
import { buildModel, type AclEndpoint, type AclModel } from './model.js';
import { userProtocolText } from '../net/protocol.js';
import { protocolName, protocolNumber, PROTOCOLS, type AclRule, type Direction, type EntityMatch, type IpVersion, type NamedPortSet, type Nets } from './rules.js';
import { DEFAULT_RENDER, type EndpointToHostAction } from './render.js';
import type { AclHostEndpoint } from './hostendpoints.js';
import { evaluateHostEndpoint, hostEndpointFor, type HostFailsafe } from './explain-host.js';

export interface Flow {
  readonly protocol: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
}

export interface Packet extends Flow {
  readonly family: IpVersion;
  readonly src: string;
  readonly dst: string;
}

export interface DirectionResult {
  readonly direction: Direction;
  readonly endpoint: string;
  readonly allowed: boolean;
  /** "policy default.allow-db rule 1 (Allow tcp dst 5432)", "no policy allowed …" */
  readonly reason: string;
  /** Log rules hit on the way, and notes. */
  readonly notes: readonly string[];
}

export interface ExplainResult {
  readonly packet: Packet;
  readonly egress: DirectionResult | null;
  readonly ingress: DirectionResult | null;
  readonly allowed: boolean;
  readonly text: string;
}

/**
 * Parses "tcp/5432", "udp/53", "icmp", "icmp/8", "icmp/8/0", "icmpv6/128", "sctp/9", "47".
 * Empty → ICMP echo request (a ping).
 */
export function parseFlow(text: string | undefined): Flow {
  if (text === undefined || text.trim() === '') return { protocol: PROTOCOLS.icmp, icmpType: 8, icmpCode: 0 };
  const [p, a, b, ...rest] = text.trim().split('/');
  const bad = (): never => { throw new DaemonError('ERR_ACL_FLOW', `"${text}" is not PROTO[/PORT] (e.g. tcp/5432, icmp/8/0)`); };
  if (rest.length > 0 || p === undefined) return bad();
  let protocol: number;
  try { protocol = protocolNumber(userProtocolText(p), 'flow'); } catch { return bad(); }
  const num = (s: string | undefined, max: number): number | undefined => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s) || Number(s) > max) return bad();
    return Number(s);
  };
  if (protocol === PROTOCOLS.icmp || protocol === PROTOCOLS.icmpv6) {
    const dflt = protocol === PROTOCOLS.icmp ? 8 : 128;
    return { protocol, icmpType: num(a, 255) ?? dflt, icmpCode: num(b, 255) ?? 0 };
  }
  if (b !== undefined) return bad();
  const dstPort = num(a, 65535);
  return dstPort === undefined ? { protocol } : { protocol, dstPort };
}

function inNets(addr: string, nets: Nets, v: IpVersion): boolean {
  return (v === 4 ? nets.v4 : nets.v6).some((n) => addressInPrefix(addr, n));
}

function inPorts(port: number | undefined, ranges: readonly { from: number; to: number }[]): boolean {
  return port !== undefined && ranges.some((r) => port >= r.from && port <= r.to);
}

function inNamed(addr: string, port: number | undefined, set: NamedPortSet, v: IpVersion): boolean {
  return port !== undefined && (v === 4 ? set.members.v4 : set.members.v6).includes(`${addr} . ${port}`);
}

function entityMatches(e: EntityMatch, addr: string, port: number | undefined, v: IpVersion): boolean {
  if (e.nets && !inNets(addr, e.nets, v)) return false;
  if (e.notNets && inNets(addr, e.notNets, v)) return false;
  if (e.selector && !inNets(addr, e.selector.members, v)) return false;
  if (e.notSelector && inNets(addr, e.notSelector.members, v)) return false;
  if ((e.ports || e.namedPorts) && !((e.ports && inPorts(port, e.ports)) || (e.namedPorts && inNamed(addr, port, e.namedPorts, v)))) return false;
  if (e.notPorts && (port === undefined || inPorts(port, e.notPorts))) return false;
  return true;
}

function icmpHit(m: { type: number; code?: number }, pkt: Packet): boolean {
  return pkt.icmpType === m.type && (m.code === undefined || pkt.icmpCode === m.code);
}

/** True when `rule` matches `pkt` — the same conditions render.ts writes as nft expressions. */
export function ruleMatches(r: AclRule, pkt: Packet): boolean {
  if (!r.families.has(pkt.family)) return false;
  if (r.protocol !== null && pkt.protocol !== r.protocol) return false;
  if (r.notProtocol !== null && pkt.protocol === r.notProtocol) return false;
  const icmpProto = r.protocol === PROTOCOLS.icmpv6 ? PROTOCOLS.icmpv6 : PROTOCOLS.icmp;
  if (r.icmp && (pkt.protocol !== icmpProto || !icmpHit(r.icmp, pkt))) return false;
  if (r.notIcmp && (pkt.protocol !== icmpProto || icmpHit(r.notIcmp, pkt))) return false;
  return entityMatches(r.source, pkt.src, pkt.srcPort, pkt.family) && entityMatches(r.destination, pkt.dst, pkt.dstPort, pkt.family);
}

type Outcome = { kind: 'allow' | 'deny' | 'pass' | 'none'; reason: string };

function runRules(rules: readonly AclRule[], pkt: Packet, what: string, notes: string[], inProfile: boolean): Outcome {
  for (const r of rules) {
    if (!ruleMatches(r, pkt)) continue;
    const where = `${what} rule ${r.index} (${r.summary})`;
    if (r.action === 'Log') { notes.push(`logged by ${where}`); continue; }
    if (r.action === 'Allow') return { kind: 'allow', reason: where };
    if (r.action === 'Deny') return { kind: 'deny', reason: where };
    return { kind: 'pass', reason: inProfile ? where : `passed to profiles by ${where}` };
  }
  return { kind: 'none', reason: '' };
}

/** Felix's anti-spoofing and encapsulation guards on traffic a workload sends. */
function egressGuard(ep: AclEndpoint, pkt: Packet): string | null {
  const own = pkt.family === 4 ? ep.sources.v4 : ep.sources.v6;
  if (!own.some((n) => addressInPrefix(pkt.src, n))) return `anti-spoofing: ${pkt.src} is not an address of ${ep.key}`;
  if (pkt.protocol === 4 && !DEFAULT_RENDER.allowIPIPFromWorkloads) return 'IPIP from a workload is dropped';
  if (pkt.protocol === PROTOCOLS.udp && pkt.dstPort === DEFAULT_RENDER.vxlanPort && !DEFAULT_RENDER.allowVXLANFromWorkloads) return 'VXLAN from a workload is dropped';
  return null;
}

/** Verdict of one direction at one endpoint, in chain order: tiers, then profiles. */
export function evaluateDirection(model: AclModel, ep: AclEndpoint, d: Direction, pkt: Packet): DirectionResult {
  const notes: string[] = [];
  const done = (allowed: boolean, reason: string): DirectionResult => ({ direction: d, endpoint: ep.key, allowed, reason, notes });
  if (d === 'egress') {
    const guard = egressGuard(ep, pkt);
    if (guard) return done(false, guard);
  }
  const tiers = ep.tiers[d];
  for (const t of tiers) {
    let passed: string | null = null;
    for (const key of t.policies) {
      const p = model.policies.get(key);
      if (!p) continue;
      const label = `${p.kind === 'NetworkPolicy' ? 'policy' : 'global policy'} ${key} (tier ${t.tier})${p.invalid ? ' (fail-closed)' : ''}`;
      const o = runRules(p.rules[d], pkt, label, notes, false);
      if (o.kind === 'allow') return done(true, o.reason);
      if (o.kind === 'deny') return done(false, o.reason);
      if (o.kind === 'pass') { passed = o.reason.replace('passed to profiles by ', ''); break; }
    }
    if (passed !== null) notes.push(`tier ${t.tier}: passed to the next tier by ${passed}`);
    else if (t.defaultAction === 'Pass') notes.push(`tier ${t.tier}: no policy matched; defaultAction Pass to the next tier (${t.policies.join(', ')})`);
    else return done(false, `end of tier ${t.tier}: no policy allowed it (selected by ${t.policies.join(', ')})`);
  }
  for (const key of ep.profiles) {
    const p = model.profiles.get(key);
    if (!p) continue;
    const o = runRules(p.rules[d], pkt, `profile ${key}${p.invalid ? ' (fail-closed)' : ''}`, notes, true);
    if (o.kind === 'allow') return done(true, o.reason);
    if (o.kind === 'deny') return done(false, o.reason);
  }
  if (ep.profiles.length === 0 && tiers.length === 0) return done(false, 'no policy selects it and it has no profile: isolated');
  return done(false, `no profile allowed it (profiles: ${ep.profiles.join(', ') || 'none'})`);
}

interface Side { readonly ep: AclEndpoint | null; readonly addr: string | null; readonly label: string; readonly hep?: AclHostEndpoint | null }

function resolveSide(model: AclModel, text: string): Side {
  if (isAddress(text)) {
    const addr = canonicalAddress(text);
    const ep = model.allEndpoints.find((e) => [...e.addrs.v4, ...e.addrs.v6].some((n) => familyOf(n) === familyOf(addr) && addressInPrefix(addr, n))) ?? null;
    const hep = ep ? null : hostEndpointFor(model, text, addr);
    return { ep, addr, label: ep ? ep.key : hep ? `${addr} (HostEndpoint ${hep.key})` : addr, hep };
  }
  const ep = model.allEndpoints.find((e) => e.key === text) ?? model.allEndpoints.find((e) => e.key.endsWith(`/${text}`)) ?? null;
  const hep = ep ? null : hostEndpointFor(model, text, null);
  if (hep) return { ep: null, addr: null, label: `HostEndpoint ${hep.key}`, hep };
  if (!ep) throw new DaemonError('ERR_ACL_UNKNOWN_ENDPOINT', `no WorkloadEndpoint "${text}" (use namespace/name or an IP address)`);
  return { ep, addr: null, label: ep.key };
}

function addressFor(side: Side, v: IpVersion): string | null {
  if (side.addr) return familyOf(side.addr) === (v === 4 ? 'ipv4' : 'ipv6') ? side.addr : null;
  const own = side.ep?.addrs ?? side.hep?.addrs;
  const n = (v === 4 ? own?.v4 : own?.v6)?.[0];
  return n ? n.slice(0, n.indexOf('/')) : null;
}

export function explainFlow(
  model: AclModel, srcText: string, dstText: string, flow: Flow,
  egressToHostAction: EndpointToHostAction = DEFAULT_RENDER.endpointToHostAction, failsafe?: HostFailsafe,
): ExplainResult {
  const src = resolveSide(model, srcText);
  const dst = resolveSide(model, dstText);
  const order: IpVersion[] = flow.protocol === PROTOCOLS.icmpv6 ? [6] : flow.protocol === PROTOCOLS.icmp ? [4] : [4, 6];
  const v = order.find((x) => addressFor(src, x) && addressFor(dst, x));
  if (v === undefined) throw new DaemonError('ERR_ACL_FLOW', `${src.label} and ${dst.label} have no address family in common for ${protocolName(flow.protocol)}`);
  const packet: Packet = { ...flow, family: v, src: addressFor(src, v)!, dst: addressFor(dst, v)! };
  const toHost = !dst.ep && src.ep !== null &&
    ((model.nodeAddrs.get(src.ep.node) ?? []).some((a) => a === packet.dst) || dst.hep?.node === src.ep.node);
  // The host reaching its own workloads is not policed, as Felix (its OUTPUT chain returns for
  // workload interfaces): neither host endpoint egress nor the workload's ingress applies.
  if (dst.ep && !src.ep && (src.hep?.node === dst.ep.node || (model.nodeAddrs.get(dst.ep.node) ?? []).includes(packet.src))) {
    const text = `${src.label} (${packet.src}) -> ${dst.label} (${packet.dst}) ${flowText(flow)}: ALLOWED\n  from its own node ${dst.ep.node}: host-to-workload traffic is not policed`;
    return { packet, egress: null, ingress: null, allowed: true, text };
  }
  let egress = src.ep ? evaluateDirection(model, src.ep, 'egress', packet) : src.hep ? evaluateHostEndpoint(model, src.hep, 'from-host', packet, failsafe) : null;
  if (toHost && egress && egressToHostAction === 'Drop') {
    egress = { ...egress, allowed: false, reason: `DefaultEndpointToHostAction Drop (traffic to its own node ${src.ep!.node}; egress policy: ${egress.allowed ? 'allowed' : 'dropped'} by ${egress.reason})` };
  }
  const hostIngress = dst.hep && !(src.ep && src.ep.node === dst.hep.node) ? dst.hep : null;
  const ingress = egress !== null && !egress.allowed ? null
    : dst.ep ? evaluateDirection(model, dst.ep, 'ingress', packet)
      : hostIngress ? evaluateHostEndpoint(model, hostIngress, 'to-host', packet, failsafe) : null;
  const allowed = (egress?.allowed ?? true) && (ingress?.allowed ?? true);
  const lines = [`${src.label} (${packet.src}) -> ${dst.label}${toHost ? ` (its node ${src.ep!.node})` : ''} (${packet.dst}) ${flowText(flow)}: ${allowed ? 'ALLOWED' : 'DROPPED'}`];
  const describe = (r: DirectionResult | null, d: Direction, side: Side): void => {
    if (r) {
      lines.push(`  ${d} of ${r.endpoint}: ${r.allowed ? 'allowed' : 'dropped'} by ${r.reason}`);
      for (const n of r.notes) lines.push(`    ${n}`);
    } else if (side.hep && (egress === null || egress.allowed)) lines.push(`  ${d}: ${side.label}: workload-to-host traffic, host endpoint policy does not apply`);
    else if (!side.ep && !side.hep) lines.push(`  ${d}: ${side.label} is not a workload endpoint, no ${d} policy`);
    else lines.push(`  ${d} of ${side.ep?.key ?? side.label}: not reached`);
  };
  describe(egress, 'egress', src);
  describe(ingress, 'ingress', dst);
  return { packet, egress, ingress, allowed, text: lines.join('\n') };
}

export function flowText(f: Flow): string {
  const name = protocolName(f.protocol);
  if (f.icmpType !== undefined) return `${name} type ${f.icmpType} code ${f.icmpCode ?? 0}`;
  return f.dstPort === undefined ? name : `${name}/${f.dstPort}`;
}

/** explain(snapshot, "default/pod-a", "10.65.0.7", "tcp/5432") */
export function explain(snapshot: Snapshot, src: string, dst: string, flow?: string | Flow, toHost?: EndpointToHostAction, failsafe?: HostFailsafe): ExplainResult {
  const f = typeof flow === 'object' ? flow : parseFlow(flow);
  return explainFlow(buildModel(snapshot), src, dst, f, toHost, failsafe);
}
