// PURE rendering of host endpoint policy (Felix's host endpoint chains in nftables terms).
// Called by render.ts; adds nothing to the table when this node has no host endpoint.
//
// Base chains, one per Felix table and hook (all in table inet tern; a drop anywhere is final,
// an accept ends only its own base chain, so the stages compose as "every stage must let it
// through"):
//   tern-hep-raw-pre  prerouting, priority raw+10: clears the accept bit, then doNotTrack
//                     ingress policy per interface (`tern-hui-<iface>`).
//   tern-hep-raw-out  output, priority raw+10: clears the accept bit, then doNotTrack egress
//                     policy (`tern-huo-<iface>`).
//   tern-hep-prednat  prerouting, priority mangle+10 (after conntrack, before DNAT at dstnat):
//                     established/related accept, accept bit accept, then preDNAT ingress
//                     policy (`tern-hpi-<iface>`).
//   tern-hep-in       input, priority filter+12: workload interfaces are left to
//                     tern-wl-to-host; the accept bit accepts; then normal ingress policy
//                     (`tern-hi-<iface>`).
//   tern-hep-out      output, priority filter+12: the accept bit accepts; traffic to a local
//                     workload is not policed (as Felix); then normal egress (`tern-ho-<iface>`).
//   tern-hep-fwd-in / tern-hep-fwd-out  forward, priority filter+12/+13: applyOnForward policy
//                     for traffic forwarded in from (`tern-hfi-`) / out to (`tern-hfo-`) a host
//                     endpoint; the accept bit skips the ingress side (as Felix).
// Interface dispatch is `iifname/oifname "<iface>" goto <chain>`, the `*` endpoint's chain last
// for every other non-workload interface; `goto` so that a chain that does not decide leaves
// the base chain's policy (accept) in force.
//
// Endpoint chains: tracked ones start with established/related accept and invalid drop (as
// Felix's conntrack rules); then the failsafe ports
// (raw: both directions' ports, source ports for replies); then each tier inline: clear the pass
// bit, jump to each policy while the pass bit is clear, end of tier drop (normal and forward
// only; untracked and preDNAT tiers end in Pass). Normal chains then run the profiles and drop;
// forward chains accept when no applyOnForward policy applies. An Allow in an untracked policy
// sets the accept bit and `notrack`; in a preDNAT policy it sets the accept bit (later stages
// accept at once); in normal and forward policy it is `accept` (the workload policy chains are shared).
import type { AclModel, AclPolicy } from './model.js';
import type { AclHostEndpoint, FailsafePort, HostTierPlan } from './hostendpoints.js';
import type { Direction } from './rules.js';
import { nftName, policyChain, profileChain, type NftChain } from './render.js';

export interface HostRenderOptions {
  readonly passMark: number;
  readonly acceptMark: number;
  readonly interfacePrefix: string;
  readonly failsafeInbound: readonly FailsafePort[];
  readonly failsafeOutbound: readonly FailsafePort[];
}

/** Renders one policy's rules for a direction into chain `name`, with `allow` as the Allow verdict. */
export type PolicyChainRenderer = (p: AclPolicy, d: Direction, name: string, allow: string, role: 'policy' | 'profile') => NftChain;

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

export const untrackedPolicyChain = (d: Direction, key: string): string => nftName(d === 'ingress' ? 'tern-upi' : 'tern-upo', key);
export const preDnatPolicyChain = (key: string): string => nftName('tern-dpi', key);
export const hostChain = (kind: 'hui' | 'huo' | 'hpi' | 'hi' | 'ho' | 'hfi' | 'hfo', iface: string): string => nftName(`tern-${kind}`, iface);

/** Failsafe accepts: `dport` of `ports`, and (raw) `sport` of `replies`. */
function failsafe(ports: readonly FailsafePort[], replies: readonly FailsafePort[] | null): string[] {
  const out: string[] = [];
  const group = (list: readonly FailsafePort[], field: 'dport' | 'sport'): void => {
    for (const proto of ['tcp', 'udp', 'sctp'] as const) {
      const nums = [...new Set(list.filter((p) => p.protocol === proto).map((p) => p.port))].sort((a, b) => a - b);
      if (nums.length === 0) continue;
      out.push(`${proto} ${field} ${nums.length === 1 ? nums[0] : `{ ${nums.join(', ')} }`} accept comment ${quote(`failsafe ${field === 'dport' ? '' : 'reply '}${proto}`)}`);
    }
  };
  group(ports, 'dport');
  if (replies) group(replies, 'sport');
  return out;
}

function tierRules(o: HostRenderOptions, plans: readonly HostTierPlan[], chainFor: (key: string) => string, endDrop: boolean): string[] {
  if (plans.length === 0) return [];
  const pass = hex(o.passMark);
  const clear = `meta mark set meta mark & ${hex(~o.passMark >>> 0)}`;
  const out: string[] = [];
  for (const t of plans) {
    out.push(clear);
    for (const key of t.policies) out.push(`meta mark & ${pass} == 0 jump ${chainFor(key)}`);
    if (endDrop && t.defaultAction === 'Deny') out.push(`meta mark & ${pass} == 0 drop comment ${quote(`end of tier ${t.tier}`.slice(0, 120))}`);
  }
  out.push(clear);
  return out;
}

/** Every chain for this node's host endpoints; `existing` names chains render.ts already made. */
export function renderHostEndpoints(model: AclModel, o: HostRenderOptions, existing: ReadonlySet<string>, renderPolicy: PolicyChainRenderer): NftChain[] {
  const heps = model.hostEndpoints.filter((h) => h.iface !== '');
  if (heps.length === 0) return [];
  const made = new Set(existing);
  const chains: NftChain[] = [];
  const accept = hex(o.acceptMark);
  const policyOnce = (key: string, d: Direction, name: string, allow: string, profile = false): string => {
    if (!made.has(name)) {
      const p = profile ? model.profiles.get(key) : model.policies.get(key);
      if (p) chains.push(renderPolicy(p, d, name, allow, profile ? 'profile' : 'policy'));
      made.add(name);
    }
    return name;
  };
  const ordered = [...heps].sort((a, b) => (a.iface === '*' ? 1 : 0) - (b.iface === '*' ? 1 : 0) || (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : 0));
  const dispatch: Record<string, string[]> = { rawPre: [], rawOut: [], prednat: [], in: [], out: [], fwdIn: [], fwdOut: [] };
  const route = (list: string[], field: 'iifname' | 'oifname', h: AclHostEndpoint, chain: string): void => {
    list.push(h.iface === '*' ? `goto ${chain}` : `${field} ${quote(h.iface)} goto ${chain}`);
  };
  for (const h of ordered) {
    const s = h.stages;
    const comment = (what: string): string => `HostEndpoint ${h.key} ${what}`;
    for (const d of ['ingress', 'egress'] as const) {
      if (s.untracked[d].length === 0) continue;
      const name = hostChain(d === 'ingress' ? 'hui' : 'huo', h.iface);
      const mark = `meta mark set meta mark | ${accept} notrack accept`;
      chains.push({
        name, comment: comment(`doNotTrack ${d}`),
        rules: [
          ...failsafe(d === 'ingress' ? o.failsafeInbound : o.failsafeOutbound, d === 'ingress' ? o.failsafeOutbound : o.failsafeInbound),
          ...tierRules(o, s.untracked[d], (k) => policyOnce(k, d, untrackedPolicyChain(d, k), mark), false),
        ],
      });
      route(d === 'ingress' ? dispatch.rawPre! : dispatch.rawOut!, d === 'ingress' ? 'iifname' : 'oifname', h, name);
    }
    if (s.preDNAT.ingress.length > 0) {
      const name = hostChain('hpi', h.iface);
      chains.push({
        name, comment: comment('preDNAT ingress'),
        rules: ['ct state invalid drop', ...failsafe(o.failsafeInbound, null), ...tierRules(o, s.preDNAT.ingress, (k) => policyOnce(k, 'ingress', preDnatPolicyChain(k), `meta mark set meta mark | ${accept} accept`), false)],
      });
      route(dispatch.prednat!, 'iifname', h, name);
    }
    for (const d of ['ingress', 'egress'] as const) {
      const name = hostChain(d === 'ingress' ? 'hi' : 'ho', h.iface);
      const tiers = s.normal[d];
      const rules = ['ct state established,related accept', 'ct state invalid drop', ...failsafe(d === 'ingress' ? o.failsafeInbound : o.failsafeOutbound, null)];
      rules.push(...tierRules(o, tiers, (k) => policyOnce(k, d, policyChain(d, k), 'accept'), true));
      for (const p of h.profiles) rules.push(`jump ${policyOnce(p, d, profileChain(d, p), 'accept', true)}`);
      rules.push(tiers.length === 0 && h.profiles.length === 0
        ? `drop comment "no policy, no profile: deny (failsafe ports stay open)"`
        : `drop comment "no profile allowed"`);
      chains.push({ name, comment: comment(d), rules });
      route(d === 'ingress' ? dispatch.in! : dispatch.out!, d === 'ingress' ? 'iifname' : 'oifname', h, name);
    }
    for (const d of ['ingress', 'egress'] as const) {
      const name = hostChain(d === 'ingress' ? 'hfi' : 'hfo', h.iface);
      const tiers = s.forward[d];
      const rules = ['ct state established,related accept', 'ct state invalid drop'];
      if (tiers.length === 0) rules.push(`accept comment "no applyOnForward policy: forwarded traffic allowed"`);
      else rules.push(...tierRules(o, tiers, (k) => policyOnce(k, d, policyChain(d, k), 'accept'), true));
      chains.push({ name, comment: comment(`forwarded ${d}`), rules });
      route(d === 'ingress' ? dispatch.fwdIn! : dispatch.fwdOut!, d === 'ingress' ? 'iifname' : 'oifname', h, name);
    }
  }
  const wl = quote(`${o.interfacePrefix}*`);
  const clearAccept = `meta mark set meta mark & ${hex(~o.acceptMark >>> 0)}`;
  const accepted = `meta mark & ${accept} == ${accept} accept`;
  const hook = (h: string, prio: string): string => `type filter hook ${h} priority ${prio}; policy accept;`;
  chains.push(
    { name: 'tern-hep-raw-pre', hook: hook('prerouting', 'raw + 10'), rules: [clearAccept, `iifname ${wl} accept`, ...dispatch.rawPre!] },
    { name: 'tern-hep-raw-out', hook: hook('output', 'raw + 10'), rules: [clearAccept, ...dispatch.rawOut!] },
    { name: 'tern-hep-prednat', hook: hook('prerouting', 'mangle + 10'), rules: ['ct state established,related accept', accepted, `iifname ${wl} accept`, ...dispatch.prednat!] },
    { name: 'tern-hep-in', hook: hook('input', 'filter + 12'), rules: [`iifname ${wl} accept`, accepted, ...dispatch.in!] },
    { name: 'tern-hep-out', hook: hook('output', 'filter + 12'), rules: [accepted, `oifname ${wl} accept`, ...dispatch.out!] },
    { name: 'tern-hep-fwd-in', hook: hook('forward', 'filter + 12'), rules: [accepted, `iifname ${wl} accept`, ...dispatch.fwdIn!] },
    { name: 'tern-hep-fwd-out', hook: hook('forward', 'filter + 13'), rules: [`oifname ${wl} accept`, ...dispatch.fwdOut!] },
  );
  return chains;
}
