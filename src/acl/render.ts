// PURE rendering: AclModel → the desired nftables table (`DesiredTable`) → `nft -f` script.
// No I/O; tests snapshot the script text for a fixed model.
//
// Layout of table `inet tern` (Felix's chain tree in nftables terms, see docs/acl.md):
//   base chain `tern-from-wl`  hook forward, priority filter+10: established/related accept,
//                         `iifname vmap @tern-from-wl-dispatch` → `tern-fw-<iface>` (egress of
//                         the workload), unknown `cali*` drop.
//   base chain `tern-to-wl`    hook forward, priority filter+11: the same by `oifname` →
//                         `tern-tw-<iface>` (ingress). Two base chains because an Allow is an
//                         nft `accept`, which ends only the base chain it runs in: a packet
//                         between two local pods is accepted by egress, then judged by ingress.
//   base chain `tern-wl-to-host` hook input, priority filter+10: traffic from a workload to
//                         the host itself. Established/related and IPv6 neighbour discovery
//                         accepted; then Felix's DefaultEndpointToHostAction after the
//                         workload's egress policy: Drop (default) drops, Accept/Return run
//                         `tern-fw-<iface>` (its Allow accepts).
//   `tern-fw/tw-<iface>`  invalid drop; (egress) anti-spoofing, IPIP/VXLAN from the workload
//                         dropped; jump to each tier's group chain in tier order; then the
//                         profiles; drop if none accepted.
//   `tern-go/gi-<hash>`   a policy group: one tier's policy list for a direction, shared by
//                         every endpoint with the same list (Felix's policy groups). Jumps to
//                         each policy chain (returning at once when a Pass set the pass bit),
//                         then the end of the tier: drop (defaultAction Deny) or return (Pass).
//                         Lists longer than 16 jump to shared chunk chains `tern-co/ci-<hash>`.
//   `tern-pi/po-<policy>`, `tern-pri/pro-<profile>`: one nft rule per Calico rule and family.
//                         Allow = accept, Deny = drop, Log = log and continue, Pass = set the pass
//                         mark bit and return (policy) or return (profile).
//   sets `tern-s4-<id>` / `tern-s6-<id>`: member addresses of a rule selector;
//   `tern-n4-<id>` / `tern-n6-<id>`: `address . port` pairs of named ports.
//
// Invariants: every name is derived from the model alone (same model → same text); the pass
// bit is touched only in endpoint chains whose policies contain a Pass rule, and is cleared
// before any verdict that can follow it.
import { createHash } from 'node:crypto';
import { sameData } from './incremental.js';
import type { AclEndpoint, AclModel, AclPolicy, TierPlan } from './model.js';
import type { Direction } from './rules.js';
import { hex, namedSetName, ruleLines, setLiteral, setName } from './render-rules.js';
import { nftComment, quote } from './script.js';

export { setName, namedSetName } from './render-rules.js';

export { tableScript, tableScriptSteps, elementDiffScript } from './script.js';
import { FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, type FailsafePort } from './hostendpoints.js';
import { renderHostEndpoints } from './render-host.js';

export interface RenderOptions {
  readonly table?: string;
  /** Priority of the egress base chain relative to `filter` (0); ingress is one more. */
  readonly priority?: number;
  /** Packet-mark bit tern uses for Pass (Felix's pass bit by default). */
  readonly passMark?: number;
  readonly interfacePrefix?: string;
  /** Felix's DefaultEndpointToHostAction: what follows a workload's egress policy for traffic to the host. */
  readonly endpointToHostAction?: EndpointToHostAction;
  /** Felix's AllowIPIPPacketsFromWorkloads / AllowVXLANPacketsFromWorkloads. */
  readonly allowIPIPFromWorkloads?: boolean;
  readonly allowVXLANFromWorkloads?: boolean;
  readonly vxlanPort?: number;
  /** Host endpoints: Felix's accept bit (carries an untracked/preDNAT Allow to later hooks) and failsafe ports. */
  readonly acceptMark?: number;
  readonly failsafeInbound?: readonly FailsafePort[];
  readonly failsafeOutbound?: readonly FailsafePort[];
}

export type EndpointToHostAction = 'Drop' | 'Accept' | 'Return';

export const DEFAULT_RENDER = {
  table: 'tern', priority: 10, passMark: 0x20000, interfacePrefix: 'cali',
  endpointToHostAction: 'Drop' as EndpointToHostAction, allowIPIPFromWorkloads: false, allowVXLANFromWorkloads: false, vxlanPort: 4789,
  acceptMark: 0x10000, failsafeInbound: FAILSAFE_INBOUND, failsafeOutbound: FAILSAFE_OUTBOUND,
} as const;

/** ICMPv6 neighbour discovery and MLD a workload needs to talk to its host (Felix allows 130-136). */
const ND_TYPES = [130, 131, 132, 133, 135, 136];

export type NftSetType = 'ipv4_addr' | 'ipv6_addr' | 'ipv4_addr . inet_service' | 'ipv6_addr . inet_service';
export interface NftSet { readonly name: string; readonly type: NftSetType; readonly elements: readonly string[] }
export interface NftMap { readonly name: string; readonly elements: readonly (readonly [iface: string, chain: string])[] }
export interface NftChain { readonly name: string; readonly hook?: string; readonly comment?: string; readonly rules: readonly string[] }
export interface DesiredTable {
  readonly family: 'inet';
  readonly name: string;
  readonly sets: readonly NftSet[];
  readonly maps: readonly NftMap[];
  readonly chains: readonly NftChain[];
}

const DIR_TAG: Record<Direction, { policy: string; profile: string; ep: string }> = {
  ingress: { policy: 'pi', profile: 'pri', ep: 'tw' },
  egress: { policy: 'po', profile: 'pro', ep: 'fw' },
};

/** nft identifier for a tern-owned object: safe characters, ≤ 200 long, unique per key. */
export function nftName(prefix: string, key: string): string {
  const safe = key.replace(/\//g, '_').replace(/[^A-Za-z0-9_.-]/g, '_');
  if (safe === key.replace(/\//g, '_') && safe.length <= 180) return `${prefix}-${safe}`;
  return `${prefix}-${safe.slice(0, 160)}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

export const policyChain = (d: Direction, key: string): string => nftName(`tern-${DIR_TAG[d].policy}`, key);
export const profileChain = (d: Direction, key: string): string => nftName(`tern-${DIR_TAG[d].profile}`, key);
export const endpointChain = (d: Direction, iface: string): string => nftName(`tern-${DIR_TAG[d].ep}`, iface);
const groupChain = (d: Direction, id: string): string => `tern-g${d === 'egress' ? 'o' : 'i'}-${id}`;

interface Ctx {
  readonly opts: Required<RenderOptions>;
  readonly usedSets: Set<string>;
  readonly usedNamed: Set<string>;
  /** Policy-group chains by name, and whether each uses the pass bit. */
  readonly groups: Map<string, NftChain>;
  readonly groupPass: Map<string, boolean>;
  readonly cache: RenderCache | undefined;
  /** The Allow verdict; `accept` unless a host endpoint stage needs more (render-host.ts). */
  readonly allow?: string;
}

interface KeptChain { readonly chain: NftChain; readonly sets: readonly string[]; readonly named: readonly string[] }

/**
 * What one render keeps for the next (the companion's): the chains of compiled policies
 * that did not change (same object from the model cache), and the group-chain name of each
 * tier plan. Kept chains are the same objects, so the diff skips them by identity.
 */
export class RenderCache {
  private opts: unknown = undefined;
  policyChains = new WeakMap<AclPolicy, Map<string, KeptChain>>();
  groupNames = new WeakMap<TierPlan, string>();

  /** Forgets everything when the render options changed. */
  check(opts: Required<RenderOptions>): void {
    if (sameData(opts, this.opts)) return;
    this.opts = opts;
    this.policyChains = new WeakMap();
    this.groupNames = new WeakMap();
  }
}

export function renderTable(model: AclModel, options: RenderOptions = {}, cache?: RenderCache): DesiredTable {
  const g = renderSteps(model, options, cache);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** renderTable as steps (one per chain), for the companion's sliced build (model.ts runStepsAsync). */
export function* renderSteps(model: AclModel, options: RenderOptions = {}, cache?: RenderCache): Generator<void, DesiredTable> {
  const opts = { ...DEFAULT_RENDER, ...options };
  cache?.check(opts);
  const ctx: Ctx = { opts, usedSets: new Set(), usedNamed: new Set(), groups: new Map(), groupPass: new Map(), cache };
  const chains: NftChain[] = [];
  const dirs: Direction[] = ['egress', 'ingress'];
  for (const d of dirs) {
    // Endpoints share tier plans (and plans share TierPlans): each is walked once.
    const polKeys = new Set<string>();
    const walked = new Set<TierPlan>();
    for (const e of model.endpoints) {
      for (const t of e.tiers[d]) {
        if (walked.has(t)) continue;
        walked.add(t);
        for (const k of t.policies) polKeys.add(k);
      }
    }
    for (const key of [...polKeys].sort()) {
      const p = model.policies.get(key);
      if (p) chains.push(policyRules(ctx, p, d, policyChain(d, key), 'policy'));
      yield;
    }
    const profKeys = new Set(model.endpoints.flatMap((e) => e.profiles));
    for (const key of [...profKeys].sort()) {
      const p = model.profiles.get(key);
      if (p) chains.push(policyRules(ctx, p, d, profileChain(d, key), 'profile'));
    }
  }
  const maps: NftMap[] = [];
  for (const d of dirs) {
    const elements: (readonly [string, string])[] = [];
    for (const ep of model.endpoints) {
      yield;
      chains.push(...(yield* endpointChains(ctx, model, ep, d)));
      elements.push([ep.iface, endpointChain(d, ep.iface)]);
    }
    maps.push({ name: d === 'egress' ? 'tern-from-wl-dispatch' : 'tern-to-wl-dispatch', elements });
  }
  chains.push(...[...ctx.groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
  chains.push(...renderHostEndpoints(model, opts, new Set(chains.map((c) => c.name)), (p, d, name, allow, role) => policyRules({ ...ctx, allow }, p, d, name, role)));
  chains.push(baseChain(opts, 'egress'), baseChain(opts, 'ingress'), toHostChain(opts));
  const sets: NftSet[] = [];
  for (const id of [...ctx.usedSets].sort()) {
    const s = model.sets.get(id);
    if (!s) continue;
    sets.push({ name: setName(4, id), type: 'ipv4_addr', elements: s.members.v4 });
    sets.push({ name: setName(6, id), type: 'ipv6_addr', elements: s.members.v6 });
  }
  for (const id of [...ctx.usedNamed].sort()) {
    const s = model.namedSets.get(id);
    if (!s) continue;
    sets.push({ name: namedSetName(4, id), type: 'ipv4_addr . inet_service', elements: s.members.v4 });
    sets.push({ name: namedSetName(6, id), type: 'ipv6_addr . inet_service', elements: s.members.v6 });
  }
  return { family: 'inet', name: opts.table, sets, maps, chains };
}

/** Workload → host (INPUT): Felix's cali-wl-to-host with DefaultEndpointToHostAction. */
function toHostChain(opts: Required<RenderOptions>): NftChain {
  const prio = opts.priority;
  const wl = quote(`${opts.interfacePrefix}*`);
  const rules = [
    `iifname != ${wl} accept`,
    'ct state established,related accept',
    `meta l4proto ipv6-icmp icmpv6 type { ${ND_TYPES.join(', ')} } accept`,
  ];
  if (opts.endpointToHostAction === 'Drop') rules.push(`iifname ${wl} drop comment ${nftComment('DefaultEndpointToHostAction Drop')}`);
  else rules.push('iifname vmap @tern-from-wl-dispatch', `iifname ${wl} drop comment ${nftComment('unknown workload interface')}`);
  return {
    name: 'tern-wl-to-host',
    hook: `type filter hook input priority filter ${prio < 0 ? '-' : '+'} ${Math.abs(prio)}; policy accept;`,
    rules,
  };
}

function baseChain(opts: Required<RenderOptions>, d: Direction): NftChain {
  const [name, field, map] = d === 'egress'
    ? ['tern-from-wl', 'iifname', 'tern-from-wl-dispatch']
    : ['tern-to-wl', 'oifname', 'tern-to-wl-dispatch'];
  const prio = opts.priority + (d === 'egress' ? 0 : 1);
  return {
    name,
    hook: `type filter hook forward priority filter ${prio < 0 ? '-' : '+'} ${Math.abs(prio)}; policy accept;`,
    rules: [
      'ct state established,related accept',
      `${field} vmap @${map}`,
      `${field} ${quote(`${opts.interfacePrefix}*`)} drop comment ${nftComment('unknown workload interface')}`,
    ],
  };
}

function* endpointChains(ctx: Ctx, model: AclModel, ep: AclEndpoint, d: Direction): Generator<void, NftChain[]> {
  const clear = hex(~ctx.opts.passMark >>> 0);
  const name = endpointChain(d, ep.iface);
  const rules = ['ct state invalid drop'];
  if (d === 'egress') rules.push(...egressGuards(ctx, ep));
  let anyPass = false;
  for (const t of ep.tiers[d]) {
    const g = yield* groupFor(ctx, model, t, d);
    anyPass ||= g.usesPass;
    rules.push(`jump ${g.name}`);
  }
  if (anyPass) rules.push(`meta mark set meta mark & ${clear}`);
  if (ep.tiers[d].length === 0 && ep.profiles.length === 0) rules.push(`drop comment "isolated: no policy, no profile"`);
  else {
    rules.push(...ep.profiles.map((p) => `jump ${profileChain(d, p)}`));
    rules.push(`drop comment "no profile allowed"`);
  }
  return [{ name, comment: `WorkloadEndpoint ${ep.key} ${d}`, rules }];
}

/** Anti-spoofing and Felix's drop of IPIP/VXLAN packets a workload originates. */
function egressGuards(ctx: Ctx, ep: AclEndpoint): string[] {
  const out: string[] = [];
  for (const [v, proto, list] of [[4, 'ip', ep.sources.v4], [6, 'ip6', ep.sources.v6]] as const) {
    out.push(list.length > 0
      ? `meta nfproto ipv${v} ${proto} saddr != ${setLiteral(list)} drop comment "anti-spoofing"`
      : `meta nfproto ipv${v} drop comment "anti-spoofing: no IPv${v} address"`);
  }
  if (!ctx.opts.allowIPIPFromWorkloads) out.push(`meta l4proto 4 drop comment "IPIP from workload"`);
  if (!ctx.opts.allowVXLANFromWorkloads) out.push(`udp dport ${ctx.opts.vxlanPort} drop comment "VXLAN from workload"`);
  return out;
}

/** Policies per chunk chain: long tier lists are split so that lists with a common prefix share chunks. */
const CHUNK = 16;

const chainId = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The policy-group chain of one tier's policy list, shared by endpoints with the same list.
 * A list longer than CHUNK jumps to chunk chains of CHUNK policies each, shared by every list
 * with the same chunk at the same place (typically the GlobalNetworkPolicies that select
 * every pod, followed by each pod's own NetworkPolicies). In steps: a yield every 8 chunks.
 */
function* groupFor(ctx: Ctx, model: AclModel, t: TierPlan, d: Direction): Generator<void, { name: string; usesPass: boolean }> {
  let name = ctx.cache?.groupNames.get(t);
  if (name === undefined) {
    name = groupChain(d, chainId(`${d}\n${t.tier}\n${t.defaultAction}\n${t.policies.join('\n')}`));
    ctx.cache?.groupNames.set(t, name);
  }
  const known = ctx.groupPass.get(name);
  if (known !== undefined) return { name, usesPass: known };
  const policies = t.policies.map((k) => model.policies.get(k)).filter((p): p is AclPolicy => p !== undefined);
  const passes = (ps: readonly AclPolicy[]): boolean => ps.some((p) => p.rules[d].some((r) => r.action === 'Pass'));
  const usesPass = passes(policies);
  ctx.groupPass.set(name, usesPass);
  const pass = hex(ctx.opts.passMark);
  const clear = hex(~ctx.opts.passMark >>> 0);
  const jumps = (ps: readonly AclPolicy[], withPass: boolean): string[] =>
    ps.flatMap((p) => [`jump ${policyChain(d, p.key)}`, ...(withPass ? [`meta mark & ${pass} == ${pass} return`] : [])]);
  const rules: string[] = [];
  if (usesPass) rules.push(`meta mark set meta mark & ${clear}`);
  if (policies.length <= CHUNK) rules.push(...jumps(policies, usesPass));
  else {
    for (let i = 0; i < policies.length; i += CHUNK) {
      const chunk = policies.slice(i, i + CHUNK);
      const chunkPass = passes(chunk);
      const cname = `tern-c${d === 'egress' ? 'o' : 'i'}-${chainId(`${d}\n${chunk.map((p) => p.key).join('\n')}`)}`;
      if (!ctx.groups.has(cname)) ctx.groups.set(cname, { name: cname, comment: `${d} policies ${chunk[0]!.key} .. ${chunk[chunk.length - 1]!.key}`, rules: jumps(chunk, chunkPass) });
      rules.push(`jump ${cname}`);
      if (chunkPass) rules.push(`meta mark & ${pass} == ${pass} return`);
      if ((i / CHUNK & 7) === 7) yield;
    }
  }
  rules.push(t.defaultAction === 'Pass' ? `return comment ${nftComment(`tier ${t.tier} defaultAction Pass`)}` : `drop comment ${nftComment(`end of tier ${t.tier}`)}`);
  ctx.groups.set(name, { name, comment: `tier ${t.tier} ${d}: ${t.policies.join(', ')}`, rules });
  return { name, usesPass };
}

function policyRules(ctx: Ctx, p: AclPolicy, d: Direction, name: string, role: 'policy' | 'profile'): NftChain {
  const slot = `${d} ${role} ${name} ${ctx.allow ?? ''}`;
  const kept = ctx.cache?.policyChains.get(p)?.get(slot);
  if (kept) {
    for (const id of kept.sets) ctx.usedSets.add(id);
    for (const id of kept.named) ctx.usedNamed.add(id);
    return kept.chain;
  }
  const own: Ctx = { ...ctx, usedSets: new Set(), usedNamed: new Set() };
  const rules = p.rules[d].flatMap((r) => ruleLines(own, r, name, role));
  const comment = `${p.kind} ${p.key} ${d}${p.invalid ? ' (INVALID, fail-closed)' : ''}`;
  const chain = { name, comment, rules };
  for (const id of own.usedSets) ctx.usedSets.add(id);
  for (const id of own.usedNamed) ctx.usedNamed.add(id);
  if (ctx.cache) {
    let m = ctx.cache.policyChains.get(p);
    if (!m) ctx.cache.policyChains.set(p, (m = new Map()));
    m.set(slot, { chain, sets: [...own.usedSets], named: [...own.usedNamed] });
  }
  return chain;
}
