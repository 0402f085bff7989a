// The ACL model: from a Snapshot's policy kinds as typed values (src/model's policyModel:
// rules, selectors, nets, ports, tiers, endpoints already parsed) to what Felix computes
// before it renders — this node's endpoints with their labels, the tiers and policies that
// apply to each per direction, profiles, and the member sets of every rule selector.
//
// Invariants
// - Tiers run by ascending order (Tier resources first, then tiers that have policies but no
//   Tier resource; no order sorts last; ties by name). The default tier is implicit, order
//   1 000 000 (Calico's), defaultAction Deny. A tier takes part for an endpoint and direction
//   only when one of its policies selects the endpoint there.
// - Inside a tier, policies by ascending order (none = last), ties by Felix's name: the
//   tier-prefixed name (`<tier>.<name>`), with `<namespace>/` in front for a NetworkPolicy.
// - A policy takes part in a direction when its `types` lists it; without `types`: Egress
//   when it has egress rules, Ingress when it has ingress rules or no egress rules.
// - A NetworkPolicy selects only endpoints of its namespace; its rule selectors are scoped
//   to that namespace unless the rule sets namespaceSelector (libcalico-go rules.go).
//   serviceAccountSelector is ANDed with the selector, against the service account labels.
// - doNotTrack and preDNAT policies apply to host endpoints only (Felix), never to workloads.
// - Member sets hold addresses of matching entities of EVERY node; only this node's
//   workload endpoints get chains.
// - A policy or profile tern cannot honour (a rule the model refused, or a field tern does
//   not implement) is kept fail-closed: it still selects its endpoints and its rules become
//   a single Deny; `problems` says why. A policy whose selector the model refused is ignored.
// - Host endpoints of this node get their own stage plans (hostendpoints.ts).
import type { Snapshot } from '../model/types.js';
import { bgpModel } from '../model/parse-ipam.js';
import { parseNodeAddress } from '../model/parse-bgp.js';
import { DEFAULT_TIER, DEFAULT_TIER_ORDER } from '../model/parse-policy.js';
import { policyModel } from '../model/policy-model.js';
import { familyOf } from '../net/prefix.js';
import { runSteps, runStepsAsync } from './steps.js';
import { entitySteps, namespaceLabels, type Entity, type EntityCtx } from './entities.js';
import type { AclCache } from './incremental.js';
import type { Direction, MemberSet, NamedPortSet, Nets } from './rules.js';
import { DEFAULT_ALLOW_PROFILE, hostEndpointsOf, type AclHostEndpoint } from './hostendpoints.js';
import type { InterfaceAddrs } from './interfaces.js';
import { addPolicy, cached, comparePolicies, compilePolicy, DEFAULT_ALLOW, type AclPolicy, type AclProblem, type AclTier, type Selecting } from './policy-compile.js';

export { LABEL_NAMESPACE, LABEL_ORCHESTRATOR, minimalCover } from './entities.js';

export { DEFAULT_TIER, DEFAULT_TIER_ORDER } from '../model/parse-policy.js';

export interface TierPlan {
  readonly tier: string;
  readonly defaultAction: 'Deny' | 'Pass';
  /** Policy keys in evaluation order. */
  readonly policies: readonly string[];
}

export interface AclEndpoint {
  /** "namespace/name", the WorkloadEndpoint's datastore key. */
  readonly key: string;
  readonly namespace: string;
  readonly node: string;
  readonly iface: string;
  readonly addrs: Nets;
  /** Source prefixes the workload may send from (its addresses and allowSpoofedSourcePrefixes). */
  readonly sources: Nets;
  readonly labels: Readonly<Record<string, string>>;
  /** Profiles that exist, in the endpoint's order. */
  readonly profiles: readonly string[];
  /** Tiers that apply, in order, per direction. */
  readonly tiers: Readonly<Record<Direction, readonly TierPlan[]>>;
  /** Every policy key in evaluation order (the tiers flattened), per direction. */
  readonly policies: Readonly<Record<Direction, readonly string[]>>;
}

export type { AclPolicy, AclTier, AclProblem } from './policy-compile.js';

export interface AclModel {
  /** Endpoints that get chains (all of them when the model has no node), sorted by key. */
  readonly endpoints: readonly AclEndpoint[];
  /** Every workload endpoint, for address lookups; tiers are filled only for `endpoints`. */
  readonly allEndpoints: readonly AclEndpoint[];
  readonly tiers: readonly AclTier[];
  readonly policies: ReadonlyMap<string, AclPolicy>;
  readonly profiles: ReadonlyMap<string, AclPolicy>;
  /** Member sets by id, only those referenced by rules. */
  readonly sets: ReadonlyMap<string, MemberSet>;
  readonly namedSets: ReadonlyMap<string, NamedPortSet>;
  /** Addresses of each node (Node resources), for workload-to-host traffic in explain. */
  readonly nodeAddrs: ReadonlyMap<string, readonly string[]>;
  /** Host endpoints of this node (every node's when the model has no node), with stage plans. */
  readonly hostEndpoints: readonly AclHostEndpoint[];
  readonly problems: readonly AclProblem[];
}

/** The AclPolicy view of each Selecting (kept policies keep their view: render caches by identity). */
const PLAIN = new WeakMap<Selecting, AclPolicy>();

/** Linux interface names: 1-15 bytes, no '/', whitespace or quotes. */
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;

/** The model, in one go (explain, tests). */
export function buildModel(snap: Snapshot, nodeName?: string, ifaceAddrs?: InterfaceAddrs): AclModel {
  return runSteps(modelSteps(snap, nodeName, ifaceAddrs));
}

/**
 * The model in slices of at most `sliceMs` of synchronous work, yielding to the event loop in
 * between (the BGP speaker shares it): the companion builds a thousand policies without
 * holding the loop for more than a few milliseconds at a time.
 */
export function buildModelAsync(snap: Snapshot, nodeName: string | undefined, sliceMs = 4, ifaceAddrs?: InterfaceAddrs, cache?: AclCache): Promise<AclModel> {
  return runStepsAsync(modelSteps(snap, nodeName, ifaceAddrs, cache), sliceMs);
}

/**
 * The model in steps. `ifaceAddrs`: the host's interface addresses, for HostEndpoints without
 * interfaceName (interfaces.ts). With `cache`, only what changed since the cache's last build
 * is recomputed (incremental.ts).
 */
export function* modelSteps(snap: Snapshot, nodeName?: string, ifaceAddrs?: InterfaceAddrs, cache?: AclCache): Generator<void, AclModel> {
  const problems: AclProblem[] = [];
  const typed = policyModel(snap);
  yield;
  const badIface = new Set<string>();
  for (const [key, r] of snap.workloadEndpoints) {
    yield;
    if (IFNAME.test(typed.workloadEndpoints.get(key)!.iface)) continue;
    badIface.add(key);
    problems.push({ kind: 'WorkloadEndpoint', key, reason: `interfaceName "${String(r.spec.interfaceName)}" is not a Linux interface name (endpoint ignored)` });
  }
  cache?.begin(Object.fromEntries([...snap.profiles].map(([k, r]) => [k, r.spec.labelsToApply ?? null])));
  const entities = yield* entitySteps(snap, typed, (k) => !badIface.has(k), cache?.reuseEntity);
  const ctx: EntityCtx = { entities, nsLabels: namespaceLabels(snap), sets: new Map(), namedSets: new Map(), ...(cache ? { keep: cache } : {}) };
  if (cache) yield* cache.entitiesDone(ctx);
  const tiers = tiersOf(typed.tiers);
  const policies = new Map<string, Selecting>();
  yield;
  for (const [key, r] of snap.globalNetworkPolicies) {
    addPolicy(policies, problems, ctx, tiers, typed.globalNetworkPolicies.get(key)!, r.spec, cache);
    yield;
  }
  for (const [key, r] of snap.networkPolicies) {
    addPolicy(policies, problems, ctx, tiers, typed.networkPolicies.get(key)!, r.spec, cache);
    yield;
  }
  for (const t of tiers.values()) {
    if (!t.exists) problems.push({ kind: 'Tier', key: t.name, reason: 'policies name this tier but no Tier resource exists (its policies run after every other tier, end-of-tier Deny)' });
  }
  const profiles = new Map<string, AclPolicy>();
  for (const [key, r] of snap.profiles) {
    const p = typed.profiles.get(key)!;
    profiles.set(key, cached(cache, ctx, problems, p, r.spec, () => compilePolicy(ctx, problems, p)));
    yield;
  }
  if (!profiles.has(DEFAULT_ALLOW_PROFILE)) profiles.set(DEFAULT_ALLOW_PROFILE, compilePolicy(ctx, problems, DEFAULT_ALLOW));
  const tierList = [...tiers.values()].sort(compareTiers);
  const ordered = [...policies.values()].sort(comparePolicies);
  yield;
  const byTier = new Map<string, Selecting[]>();
  for (const p of ordered) {
    let l = byTier.get(p.tier);
    if (!l) byTier.set(p.tier, (l = []));
    l.push(p);
  }
  const entityByKey = new Map(entities.filter((e) => e.kind === 'WorkloadEndpoint').map((e) => [e.key, e]));
  yield;
  // Distinct selections (1 000 `all()` policies are one) are evaluated once per endpoint;
  // endpoints whose selections all agree share one plan (the usual case: pods of one app).
  const selIndex = new Map<string, number>();
  const selOf = new Map<Selecting, number>();
  const reps: Selecting[] = [];
  for (const p of ordered) {
    let i = selIndex.get(p.selectionKey);
    if (i === undefined) {
      selIndex.set(p.selectionKey, (i = reps.length));
      reps.push(p);
    }
    selOf.set(p, i);
  }
  const plans = new Map<string, Record<Direction, TierPlan[]>>();
  const selects = cache ? (p: Selecting, e: Entity): boolean => cache.selects(p.selectionKey, e, p.select) : (p: Selecting, e: Entity): boolean => p.select(e);
  // Which distinct selections pick `e`, a step per 64 (a thousand selectors are several ms).
  function* selectionSteps(e: Entity): Generator<void, Uint8Array> {
    const memo = new Uint8Array(reps.length);
    for (let i = 0; i < reps.length; i++) {
      memo[i] = selects(reps[i]!, e) ? 49 : 48;
      if ((i & 63) === 63) yield;
    }
    return memo;
  }
  const planFor = (e: Entity, memo: Uint8Array): Record<Direction, TierPlan[]> => {
    const sig = Buffer.from(memo).toString('latin1');
    const known = plans.get(sig);
    if (known) return known;
    const out: Record<Direction, TierPlan[]> = { ingress: [], egress: [] };
    for (const t of tierList) {
      const ingress: string[] = [];
      const egress: string[] = [];
      for (const p of byTier.get(t.name) ?? []) {
        if (memo[selOf.get(p)!] !== 49) continue;
        if (p.applies.ingress) ingress.push(p.key);
        if (p.applies.egress) egress.push(p.key);
      }
      if (ingress.length > 0) out.ingress.push({ tier: t.name, defaultAction: t.defaultAction, policies: ingress });
      if (egress.length > 0) out.egress.push({ tier: t.name, defaultAction: t.defaultAction, policies: egress });
    }
    plans.set(sig, out);
    return out;
  };
  // What every plan depends on besides the endpoint: the ordered selecting policies and tiers.
  yield;
  const planKey = cache ? [...tierList.map((t) => `${t.name}\u0001${t.defaultAction}`), '', ...ordered.map((p) => `${p.key}\u0001${p.tier}\u0001${+p.applies.ingress}${+p.applies.egress}\u0001${p.selectionKey}`)].join('\u0002') : '';
  yield;
  const planOf = cache ? (e: Entity, memo: Uint8Array): Record<Direction, TierPlan[]> => cache.plan(planKey, e, () => planFor(e, memo)) : planFor;
  // Endpoints that share a plan share its flattened policy lists.
  const flat = new WeakMap<Record<Direction, TierPlan[]>, Record<Direction, string[]>>();
  const flatten = (p: Record<Direction, TierPlan[]>): Record<Direction, string[]> => {
    let f = flat.get(p);
    if (!f) flat.set(p, (f = { ingress: p.ingress.flatMap((t) => t.policies), egress: p.egress.flatMap((t) => t.policies) }));
    return f;
  };
  const all: AclEndpoint[] = [];
  for (const [key, w] of typed.workloadEndpoints) {
    const e = entityByKey.get(key);
    if (!e) continue;
    yield;
    const mine = nodeName === undefined || w.node === nodeName;
    // The selections are evaluated (in steps) only when the plan is not kept from the last build.
    const memo = mine && !cache?.hasPlan(planKey, e) ? yield* selectionSteps(e) : new Uint8Array(0);
    const tiersFor: Record<Direction, TierPlan[]> = mine ? planOf(e, memo) : { ingress: [], egress: [] };
    const spoof = w.allowSpoofed;
    all.push({
      key, namespace: e.namespace ?? 'default', node: w.node, iface: w.iface, addrs: e.addrs,
      sources: { v4: [...e.addrs.v4, ...spoof.v4], v6: [...e.addrs.v6, ...spoof.v6] },
      labels: e.labels, profiles: w.profiles.filter((p) => profiles.has(p)), tiers: tiersFor,
      policies: flatten(tiersFor),
    });
  }
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  yield;
  const hostEndpoints = hostEndpointsOf(typed.hostEndpoints, nodeName, entities, ordered, tierList, (n) => profiles.has(n), problems, ifaceAddrs);
  yield;
  const local = nodeName === undefined ? all : all.filter((e) => e.node === nodeName);
  const plain = new Map<string, AclPolicy>();
  let n = 0;
  for (const [k, p] of policies) {
    if ((++n & 127) === 0) yield;
    let v = PLAIN.get(p);
    if (!v) PLAIN.set(p, (v = { key: p.key, kind: p.kind, tier: p.tier, order: p.order, rules: p.rules, applies: p.applies, ...(p.invalid ? { invalid: p.invalid } : {}) }));
    plain.set(k, v);
  }
  yield;
  cache?.end();
  return {
    endpoints: local, allEndpoints: all, tiers: tierList, policies: plain, profiles, sets: ctx.sets, namedSets: ctx.namedSets,
    nodeAddrs: nodeAddresses(snap), hostEndpoints, problems,
  };
}

/**
 * Each node's host addresses, canonical: its BGP addresses as the model parsed them
 * (`bgpModel`), its IPIP tunnel address and its `spec.addresses` (an address or address/len,
 * the Node address grammar). A value that does not parse is left out (validation refuses it).
 */
function nodeAddresses(snap: Snapshot): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const typed = bgpModel(snap).nodes;
  for (const [name, n] of snap.nodes) {
    const bgp = typed.get(name);
    const list: string[] = [];
    if (bgp?.ipv4) list.push(bgp.ipv4.address);
    if (bgp?.ipv6) list.push(bgp.ipv6.address);
    const texts = [n.spec.bgp?.ipv4IPIPTunnelAddr, ...(n.spec.addresses ?? []).map((a) => a.address)];
    for (const text of texts) {
      if (typeof text !== 'string' || text.trim() === '') continue;
      try {
        list.push(parseNodeAddress(text, familyOf(text)).address);
      } catch { /* refused by validation */ }
    }
    out.set(name, [...new Set(list)]);
  }
  return out;
}

function tiersOf(typed: ReadonlyMap<string, { name: string; order: number | undefined; defaultAction: 'Deny' | 'Pass' }>): Map<string, AclTier> {
  const out = new Map<string, AclTier>();
  out.set(DEFAULT_TIER, { name: DEFAULT_TIER, order: DEFAULT_TIER_ORDER, defaultAction: 'Deny', exists: true });
  for (const t of typed.values()) out.set(t.name, { name: t.name, order: t.order, defaultAction: t.defaultAction, exists: true });
  return out;
}

/** Felix's TierLess: existing tiers first, then by order (none last), then by name. */
function compareTiers(a: AclTier, b: AclTier): number {
  if (a.exists !== b.exists) return a.exists ? -1 : 1;
  const ao = a.order ?? Infinity;
  const bo = b.order ?? Infinity;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
