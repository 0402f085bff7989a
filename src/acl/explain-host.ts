// The verdict of host endpoint policy for one packet, walked in the order render-host.ts
// writes the chains: doNotTrack (raw), then preDNAT (ingress), then normal policy (traffic to
// or from the host itself) or applyOnForward policy (forwarded traffic). explain.ts uses it
// for flows to and from a host endpoint's address; pure tests use it as the model of the
// rendered rules.
//
// Scope: the first packet of a connection. A doNotTrack Allow is stateless: the reply is judged
// again (reverse the packet and ask for the other direction).
import { addressInPrefix } from '../net/prefix.js';
import type { AclModel } from './model.js';
import { FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, type AclHostEndpoint, type FailsafePort, type HostTierPlan } from './hostendpoints.js';
import { PROTOCOLS, type AclRule, type Direction } from './rules.js';
import { ruleMatches, type DirectionResult, type Packet } from './explain.js';

/** to-host: arrives on the interface for the host; from-host: the host sends it out; forward-*: routed through. */
export type HostPath = 'to-host' | 'from-host' | 'forward-in' | 'forward-out';

export interface HostFailsafe { readonly inbound: readonly FailsafePort[]; readonly outbound: readonly FailsafePort[] }
const DEFAULT_FAILSAFE: HostFailsafe = { inbound: FAILSAFE_INBOUND, outbound: FAILSAFE_OUTBOUND };

const PROTO_NUM = { tcp: PROTOCOLS.tcp, udp: PROTOCOLS.udp, sctp: PROTOCOLS.sctp } as const;
const hits = (list: readonly FailsafePort[], pkt: Packet, port: number | undefined): boolean =>
  port !== undefined && list.some((f) => PROTO_NUM[f.protocol] === pkt.protocol && f.port === port);

type TierWalk = { kind: 'allow' | 'deny' | 'none'; reason: string };

function walkTiers(model: AclModel, plans: readonly HostTierPlan[], d: Direction, pkt: Packet, endDrop: boolean, what: string, notes: string[]): TierWalk {
  for (const t of plans) {
    let passed = false;
    for (const key of t.policies) {
      const p = model.policies.get(key);
      if (!p) continue;
      const label = `${what} global policy ${key} (tier ${t.tier})${p.invalid ? ' (fail-closed)' : ''}`;
      const r = firstMatch(p.rules[d], pkt);
      if (!r) continue;
      const where = `${label} rule ${r.index} (${r.summary})`;
      if (r.action === 'Allow') return { kind: 'allow', reason: where };
      if (r.action === 'Deny') return { kind: 'deny', reason: where };
      notes.push(`tier ${t.tier}: passed to the next tier by ${where}`);
      passed = true;
      break;
    }
    if (!passed && endDrop && t.defaultAction === 'Deny') return { kind: 'deny', reason: `end of tier ${t.tier} (${what}): no policy allowed it (selected by ${t.policies.join(', ')})` };
  }
  return { kind: 'none', reason: '' };
}

/** First matching non-Log rule; Log rules are skipped (they only log). */
function firstMatch(rules: readonly AclRule[], pkt: Packet): AclRule | null {
  for (const r of rules) if (r.action !== 'Log' && ruleMatches(r, pkt)) return r;
  return null;
}

/** Host endpoint policy's verdict for `pkt` on `hep` along `path`. */
export function evaluateHostEndpoint(model: AclModel, hep: AclHostEndpoint, path: HostPath, pkt: Packet, failsafe: HostFailsafe | undefined = DEFAULT_FAILSAFE): DirectionResult {
  failsafe ??= DEFAULT_FAILSAFE;
  const d: Direction = path === 'to-host' || path === 'forward-in' ? 'ingress' : 'egress';
  const notes: string[] = [];
  const endpoint = `HostEndpoint ${hep.key} (${hep.iface === '*' ? 'all interfaces' : hep.iface || 'the interface of its expectedIPs'})`;
  const done = (allowed: boolean, reason: string): DirectionResult => ({ direction: d, endpoint, allowed, reason, notes });
  const [own, other] = d === 'ingress' ? [failsafe.inbound, failsafe.outbound] : [failsafe.outbound, failsafe.inbound];
  const local = path === 'to-host' || path === 'from-host';
  // Untracked: raw prerouting sees every arriving packet, raw output only the host's own.
  if (path !== 'forward-out') {
    const plans = hep.stages.untracked[d];
    if (plans.length > 0 && (hits(own, pkt, pkt.dstPort) || hits(other, pkt, pkt.srcPort))) notes.push('doNotTrack stage skipped: failsafe port');
    else if (plans.length > 0) {
      const w = walkTiers(model, plans, d, pkt, false, 'doNotTrack', notes);
      if (w.kind === 'allow') return done(true, `${w.reason}, untracked: its reply needs a doNotTrack Allow of its own`);
      if (w.kind === 'deny') return done(false, w.reason);
    }
  }
  if (d === 'ingress') {
    const plans = hep.stages.preDNAT.ingress;
    if (plans.length > 0 && hits(own, pkt, pkt.dstPort)) notes.push('preDNAT stage skipped: failsafe port');
    else if (plans.length > 0) {
      const w = walkTiers(model, plans, d, pkt, false, 'preDNAT', notes);
      if (w.kind === 'allow') return done(true, `${w.reason} (accepted before DNAT; normal policy skipped)`);
      if (w.kind === 'deny') return done(false, w.reason);
    }
  }
  if (!local) {
    const plans = hep.stages.forward[d];
    if (plans.length === 0) return done(true, 'no applyOnForward policy selects it: forwarded traffic allowed');
    const w = walkTiers(model, plans, d, pkt, true, 'applyOnForward', notes);
    if (w.kind === 'deny') return done(false, w.reason);
    return done(true, w.kind === 'allow' ? w.reason : 'every tier passed');
  }
  if (hits(own, pkt, pkt.dstPort)) return done(true, `failsafe port ${pkt.dstPort} (Felix's Failsafe${d === 'ingress' ? 'Inbound' : 'Outbound'}HostPorts)`);
  const plans = hep.stages.normal[d];
  const w = walkTiers(model, plans, d, pkt, true, 'host', notes);
  if (w.kind === 'allow') return done(true, w.reason);
  if (w.kind === 'deny') return done(false, w.reason);
  for (const key of hep.profiles) {
    const p = model.profiles.get(key);
    const r = p ? firstMatch(p.rules[d], pkt) : null;
    if (!r || r.action === 'Pass') continue;
    return done(r.action === 'Allow', `profile ${key} rule ${r.index} (${r.summary})`);
  }
  if (plans.length === 0 && hep.profiles.length === 0) return done(false, 'no policy selects the host endpoint and it has no profile: deny except failsafe ports');
  return done(false, `no profile allowed it (profiles: ${hep.profiles.join(', ') || 'none'})`);
}

/** The host endpoint whose address (expectedIPs) or name this is, on `node` when given. */
export function hostEndpointFor(model: AclModel, text: string, addr: string | null): AclHostEndpoint | null {
  return model.hostEndpoints.find((h) => h.key === text) ??
    (addr === null ? null : model.hostEndpoints.find((h) => [...h.addrs.v4, ...h.addrs.v6].some((n) => addressInPrefix(addr, n))) ?? null);
}
