// The ACL model: from a Snapshot (edge types) to what Felix computes before it renders —
// this node's endpoints with their labels, the tiers and policies that apply to each per
// direction, profiles, and the member sets of every rule selector.
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
// - A policy or profile tern cannot honour (invalid, or a field tern does not implement) is
//   kept fail-closed: it still selects its endpoints and its rules become a single Deny;
//   `problems` says why.
// - Host endpoints of this node get their own stage plans (hostendpoints.ts).
import type { EntityRule, PolicySpec, Rule, Snapshot } from '../model/types.js';
import { bgpModel } from '../model/parse-ipam.js';
import { parseNodeAddress } from '../model/parse-bgp.js';
import { familyOf } from '../net/prefix.js';
import { parseSelector, type Selector } from '../selector/index.js';
import { errorMessage } from '../util/errors.js';
import { runSteps, runStepsAsync } from './steps.js';
import { entitySteps, memberSet, namedPortSet, namespaceLabels, namespaceMatches, type Entity, type EntityCtx, type Pick } from './entities.js';
import type { AclCache } from './incremental.js';
import { normalizeRule, splitNets, type AclRule, type Direction, type MemberSet, type NamedPortSet, type Nets, type SelectorResolver } from './rules.js';
import { DEFAULT_ALLOW_PROFILE, hostEndpointsOf, type AclHostEndpoint } from './hostendpoints.js';
import type { InterfaceAddrs } from './interfaces.js';

export { LABEL_NAMESPACE, LABEL_ORCHESTRATOR, minimalCover } from './entities.js';

export const DEFAULT_TIER = 'default';
/** Calico's order for the default tier. */
export const DEFAULT_TIER_ORDER = 1_000_000;

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

export interface AclPolicy {
  readonly key: string;
  readonly kind: 'GlobalNetworkPolicy' | 'NetworkPolicy' | 'Profile';
  readonly tier: string;
  readonly order: number | undefined;
  readonly rules: Readonly<Record<Direction, readonly AclRule[]>>;
  readonly applies: Readonly<Record<Direction, boolean>>;
  /** Set when the resource is refused or not honoured; its rules are then one Deny per direction. */
  readonly invalid?: string;
}

export interface AclTier { readonly name: string; readonly order: number | undefined; readonly defaultAction: 'Deny' | 'Pass'; readonly exists: boolean }

export interface AclProblem { readonly kind: string; readonly key: string; readonly reason: string }

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

type Selecting = AclPolicy & {
  readonly felixName: string;
  readonly namespace: string | undefined;
  /** Policies with the same selection key select the same endpoints: evaluated once per endpoint. */
  readonly selectionKey: string;
  readonly select: (ep: Entity) => boolean;
  /** Host endpoint selection (GlobalNetworkPolicy only) and the host-only flags. */
  readonly selectHost: (ep: Entity) => boolean;
  readonly doNotTrack: boolean;
  readonly preDNAT: boolean;
  readonly applyOnForward: boolean;
};

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
  const badIface = new Set<string>();
  for (const [key, r] of snap.workloadEndpoints) {
    if (IFNAME.test(r.spec.interfaceName ?? '')) continue;
    badIface.add(key);
    problems.push({ kind: 'WorkloadEndpoint', key, reason: `interfaceName "${String(r.spec.interfaceName)}" is not a Linux interface name (endpoint ignored)` });
  }
  cache?.begin(Object.fromEntries([...snap.profiles].map(([k, r]) => [k, r.spec.labelsToApply ?? null])));
  const entities = yield* entitySteps(snap, (k) => !badIface.has(k), cache?.reuseEntity);
  const ctx: EntityCtx = { entities, nsLabels: namespaceLabels(snap), sets: new Map(), namedSets: new Map(), ...(cache ? { keep: cache } : {}) };
  if (cache) yield* cache.entitiesDone(ctx);
  const tiers = tiersOf(snap);
  const policies = new Map<string, Selecting>();
  yield;
  for (const [key, r] of snap.globalNetworkPolicies) {
    addPolicy(policies, problems, ctx, tiers, 'GlobalNetworkPolicy', key, undefined, r.spec, cache);
    yield;
  }
  for (const [key, r] of snap.networkPolicies) {
    addPolicy(policies, problems, ctx, tiers, 'NetworkPolicy', key, r.metadata.namespace ?? key.split('/')[0] ?? 'default', r.spec, cache);
    yield;
  }
  for (const t of tiers.values()) {
    if (!t.exists) problems.push({ kind: 'Tier', key: t.name, reason: 'policies name this tier but no Tier resource exists (its policies run after every other tier, end-of-tier Deny)' });
  }
  const profiles = new Map<string, AclPolicy>();
  for (const [key, r] of snap.profiles) {
    const spec: PolicySpec = { ingress: r.spec.ingress, egress: r.spec.egress, types: ['Ingress', 'Egress'] };
    profiles.set(key, cached(cache, ctx, problems, 'Profile', key, undefined, spec, () => compilePolicy(ctx, problems, 'Profile', key, DEFAULT_TIER, undefined, spec)));
    yield;
  }
  if (!profiles.has(DEFAULT_ALLOW_PROFILE)) {
    const allow = { ingress: [{ action: 'Allow' as const }], egress: [{ action: 'Allow' as const }], types: ['Ingress' as const, 'Egress' as const] };
    profiles.set(DEFAULT_ALLOW_PROFILE, compilePolicy(ctx, problems, 'Profile', DEFAULT_ALLOW_PROFILE, DEFAULT_TIER, undefined, allow));
  }
  const tierList = [...tiers.values()].sort(compareTiers);
  const ordered = [...policies.values()].sort(comparePolicies);
  const byTier = new Map<string, Selecting[]>();
  for (const p of ordered) {
    let l = byTier.get(p.tier);
    if (!l) byTier.set(p.tier, (l = []));
    l.push(p);
  }
  const entityByKey = new Map(entities.filter((e) => e.kind === 'WorkloadEndpoint').map((e) => [e.key, e]));
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
  const planFor = (e: Entity): Record<Direction, TierPlan[]> => {
    const memo = new Uint8Array(reps.length);
    for (let i = 0; i < reps.length; i++) memo[i] = selects(reps[i]!, e) ? 49 : 48;
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
  const planKey = cache ? [...tierList.map((t) => `${t.name}\u0001${t.defaultAction}`), '', ...ordered.map((p) => `${p.key}\u0001${p.tier}\u0001${+p.applies.ingress}${+p.applies.egress}\u0001${p.selectionKey}`)].join('\u0002') : '';
  const planOf = cache ? (e: Entity): Record<Direction, TierPlan[]> => cache.plan(planKey, e, () => planFor(e)) : planFor;
  // Endpoints that share a plan share its flattened policy lists.
  const flat = new WeakMap<Record<Direction, TierPlan[]>, Record<Direction, string[]>>();
  const flatten = (p: Record<Direction, TierPlan[]>): Record<Direction, string[]> => {
    let f = flat.get(p);
    if (!f) flat.set(p, (f = { ingress: p.ingress.flatMap((t) => t.policies), egress: p.egress.flatMap((t) => t.policies) }));
    return f;
  };
  const all: AclEndpoint[] = [];
  for (const [key, r] of snap.workloadEndpoints) {
    const e = entityByKey.get(key);
    if (!e) continue;
    yield;
    const mine = nodeName === undefined || r.spec.node === nodeName;
    const tiersFor: Record<Direction, TierPlan[]> = mine ? planOf(e) : { ingress: [], egress: [] };
    let spoof: Nets = { v4: [], v6: [] };
    try { spoof = splitNets(r.spec.allowSpoofedSourcePrefixes ?? [], 'allowSpoofedSourcePrefixes'); } catch { /* datastore validated */ }
    all.push({
      key, namespace: e.namespace ?? 'default', node: r.spec.node, iface: r.spec.interfaceName, addrs: e.addrs,
      sources: { v4: [...e.addrs.v4, ...spoof.v4], v6: [...e.addrs.v6, ...spoof.v6] },
      labels: e.labels, profiles: (r.spec.profiles ?? []).filter((p) => profiles.has(p)), tiers: tiersFor,
      policies: flatten(tiersFor),
    });
  }
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hostEndpoints = hostEndpointsOf(snap, nodeName, entities, ordered, tierList, (n) => profiles.has(n), problems, ifaceAddrs);
  const local = nodeName === undefined ? all : all.filter((e) => e.node === nodeName);
  const plain = new Map<string, AclPolicy>();
  for (const [k, p] of policies) {
    let v = PLAIN.get(p);
    if (!v) PLAIN.set(p, (v = { key: p.key, kind: p.kind, tier: p.tier, order: p.order, rules: p.rules, applies: p.applies, ...(p.invalid ? { invalid: p.invalid } : {}) }));
    plain.set(k, v);
  }
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

function tiersOf(snap: Snapshot): Map<string, AclTier> {
  const out = new Map<string, AclTier>();
  out.set(DEFAULT_TIER, { name: DEFAULT_TIER, order: DEFAULT_TIER_ORDER, defaultAction: 'Deny', exists: true });
  for (const [name, t] of snap.tiers) {
    const order = t.spec.order ?? (name === DEFAULT_TIER ? DEFAULT_TIER_ORDER : undefined);
    out.set(name, { name, order, defaultAction: t.spec.defaultAction === 'Pass' ? 'Pass' : 'Deny', exists: true });
  }
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

function comparePolicies(a: Selecting, b: Selecting): number {
  const ao = a.order ?? Infinity;
  const bo = b.order ?? Infinity;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.felixName < b.felixName ? -1 : a.felixName > b.felixName ? 1 : 0;
}

/** Calico's default `types`: Ingress unless there are only egress rules; Egress when there are egress rules. */
function defaultTypes(spec: PolicySpec): Record<Direction, boolean> {
  if (spec.types && spec.types.length > 0) return { ingress: spec.types.includes('Ingress'), egress: spec.types.includes('Egress') };
  const ingress = (spec.ingress?.length ?? 0) > 0;
  const egress = (spec.egress?.length ?? 0) > 0;
  return { ingress: ingress || !egress, egress };
}

function addPolicy(
  out: Map<string, Selecting>, problems: AclProblem[], ctx: EntityCtx, tiers: Map<string, AclTier>,
  kind: 'GlobalNetworkPolicy' | 'NetworkPolicy', key: string, namespace: string | undefined, spec: PolicySpec, cache?: AclCache,
): void {
  const tier = spec.tier || DEFAULT_TIER;
  const p = cached(cache, ctx, problems, kind, key, namespace, spec, () => selecting(ctx, problems, kind, key, namespace, spec, tier));
  if (!p) return;
  if (!tiers.has(tier)) tiers.set(tier, { name: tier, order: undefined, defaultAction: 'Deny', exists: false });
  out.set(key, p);
}

/** A policy with its selection; null (and a problem) when a selector does not parse. */
function selecting(ctx: EntityCtx, problems: AclProblem[], kind: 'GlobalNetworkPolicy' | 'NetworkPolicy', key: string, namespace: string | undefined, spec: PolicySpec, tier: string): Selecting | null {
  let sel: Selector;
  let nsSel: Selector | null = null;
  let saSel: Selector | null = null;
  try {
    sel = parseSelector(spec.selector ?? '');
    if (kind === 'GlobalNetworkPolicy' && spec.namespaceSelector) nsSel = parseSelector(spec.namespaceSelector);
    if (spec.serviceAccountSelector) saSel = parseSelector(spec.serviceAccountSelector);
  } catch (err) {
    problems.push({ kind, key, reason: `selector: ${errorMessage(err)} (policy ignored)` });
    return null;
  }
  const name = key.slice(key.indexOf('/') + 1);
  const prefixed = name.startsWith(`${tier}.`) ? name : `${tier}.${name}`;
  const felixName = namespace === undefined ? prefixed : `${namespace}/${prefixed}`;
  const hostOnly = spec.doNotTrack === true || spec.preDNAT === true;
  const select = (ep: Entity): boolean =>
    !hostOnly && ep.kind === 'WorkloadEndpoint' &&
    (namespace === undefined || ep.namespace === namespace) &&
    (nsSel === null || namespaceMatches(ctx, nsSel, ep)) &&
    (saSel === null || saSel.matches(ep.saLabels)) &&
    sel.matches(ep.labels);
  const selectHost = (ep: Entity): boolean =>
    kind === 'GlobalNetworkPolicy' && ep.kind === 'HostEndpoint' &&
    (nsSel === null || namespaceMatches(ctx, nsSel, ep)) &&
    (saSel === null || saSel.matches(ep.saLabels)) &&
    sel.matches(ep.labels);
  const flags = { doNotTrack: spec.doNotTrack === true, preDNAT: spec.preDNAT === true, applyOnForward: spec.applyOnForward === true };
  const selectionKey = [hostOnly, namespace ?? '', nsSel?.toString() ?? '', saSel?.toString() ?? '', sel.toString()].join('\u0000');
  return { ...compilePolicy(ctx, problems, kind, key, tier, namespace, spec), felixName, namespace, selectionKey, select, selectHost, ...flags };
}

/** compile(), or the cache's kept result while nothing it depends on changed. */
function cached<T extends AclPolicy | null>(cache: AclCache | undefined, ctx: EntityCtx, problems: AclProblem[], kind: string, key: string, namespace: string | undefined, spec: PolicySpec, compile: () => T): T {
  if (!cache) return compile();
  const r = cache.policy(ctx, key, kind, namespace, spec, () => {
    const before = problems.length;
    const value = compile();
    return { value, problems: problems.splice(before) };
  }, setsOfPolicy);
  problems.push(...r.problems);
  return r.value;
}

function setsOfPolicy(p: AclPolicy | null): (MemberSet | NamedPortSet)[] {
  const out: (MemberSet | NamedPortSet)[] = [];
  if (!p) return out;
  for (const r of [...p.rules.ingress, ...p.rules.egress]) {
    for (const e of [r.source, r.destination]) {
      if (e.selector) out.push(e.selector);
      if (e.notSelector) out.push(e.notSelector);
      if (e.namedPorts) out.push(e.namedPorts);
    }
  }
  return out;
}

const DENY_ALL: Rule = { action: 'Deny' };

function compilePolicy(ctx: EntityCtx, problems: AclProblem[], kind: AclPolicy['kind'], key: string, tier: string, namespace: string | undefined, spec: PolicySpec): AclPolicy {
  const applies = defaultTypes(spec);
  const resolve = resolver(ctx, namespace);
  try {
    const rules = {
      ingress: (spec.ingress ?? []).map((r, i) => normalizeRule(r, i + 1, resolve, `ingress[${i}]`)),
      egress: (spec.egress ?? []).map((r, i) => normalizeRule(r, i + 1, resolve, `egress[${i}]`)),
    };
    return { key, kind, tier, order: spec.order, rules, applies };
  } catch (err) {
    const reason = errorMessage(err);
    problems.push({ kind, key, reason: `${reason} (fail-closed: every rule replaced by Deny)` });
    const deny = normalizeRule(DENY_ALL, 1, resolve, 'invalid');
    return { key, kind, tier, order: spec.order, rules: { ingress: [deny], egress: [deny] }, applies, invalid: reason };
  }
}

/**
 * Rule selector scoping as libcalico-go's rule conversion: when a rule side sets selector,
 * notSelector, namespaceSelector or serviceAccounts, its selector is ANDed with the namespace
 * part (the namespaceSelector, else "own namespace" for a NetworkPolicy) and the service
 * account match. notSelector is not scoped.
 */
function resolver(ctx: EntityCtx, namespace: string | undefined): SelectorResolver {
  const pick = (e: EntityRule): Pick => {
    const nsSel = e.namespaceSelector ? parseSelector(e.namespaceSelector) : null;
    const sa = e.serviceAccounts;
    return {
      sel: parseSelector(e.selector ?? ''),
      nsSel,
      ownNs: nsSel === null ? namespace ?? null : null,
      saNames: sa?.names?.length ? [...sa.names] : null,
      saSel: sa?.selector ? parseSelector(sa.selector) : null,
    };
  };
  return {
    members(e: EntityRule, negated: boolean): MemberSet | null {
      if (negated) return memberSet(ctx, { sel: parseSelector(e.notSelector ?? ''), nsSel: null, ownNs: null, saNames: null, saSel: null });
      const p = pick(e);
      if (!e.selector && p.nsSel === null && p.ownNs === null && !p.saNames && !p.saSel) return null;
      return memberSet(ctx, p);
    },
    namedPorts(e: EntityRule, names: readonly string[], protocol: number): NamedPortSet {
      return namedPortSet(ctx, pick(e), names, protocol);
    },
  };
}
