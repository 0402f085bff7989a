// The ACL model: from a Snapshot (edge types) to what Felix computes before it renders —
// endpoint label sets, the ordered policy list per endpoint and direction, profiles, and the
// member addresses of every rule selector.
//
// Invariants
// - Endpoint labels are, lowest precedence first: the profiles' labelsToApply (an earlier
//   profile wins over a later one), the endpoint's own labels, then
//   projectcalico.org/namespace and projectcalico.org/orchestrator (Felix's view).
// - Policies per direction run by ascending order; no order sorts last; ties by key
//   (GlobalNetworkPolicy name, NetworkPolicy "namespace/name"). A policy takes part in a
//   direction when its `types` lists it; without `types` (Calico's default): Egress when it
//   has egress rules, Ingress when it has ingress rules or no egress rules.
// - A NetworkPolicy selects only endpoints of its namespace; its rule selectors are scoped
//   to that namespace unless the rule sets namespaceSelector (libcalico-go rules.go).
// - Namespace labels for namespaceSelector: `projectcalico.org/name` plus the `pcns.*`
//   labelsToApply of profile `kns.<namespace>` (prefix stripped), as Calico's KDD writes them.
// - Member sets hold the ipNetworks of matching endpoints of EVERY node; only endpoints of
//   `nodeName` (when given) get chains. Sets contain no prefix covered by another.
// - An invalid policy or profile (one Calico would refuse) is kept fail-closed: it still
//   selects its endpoints and its rules become a single Deny; `problems` says why.
import { createHash } from 'node:crypto';
import type { EntityRule, PolicySpec, Rule, Snapshot } from '../model/types.js';
import { parseSelector, type Selector, type Labels } from '../selector/index.js';
import { prefixContains } from '../net/prefix.js';
import { errorMessage } from '../util/errors.js';
import { normalizeRule, splitNets, type AclRule, type Direction, type MemberSet, type Nets, type SelectorResolver } from './rules.js';

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
const NS_LABEL_PREFIX = 'pcns.';

export interface AclEndpoint {
  /** "namespace/name", the WorkloadEndpoint's datastore key. */
  readonly key: string;
  readonly namespace: string;
  readonly node: string;
  readonly iface: string;
  readonly addrs: Nets;
  readonly labels: Readonly<Record<string, string>>;
  /** Profiles that exist, in the endpoint's order. */
  readonly profiles: readonly string[];
  /** Policy keys in evaluation order, per direction. */
  readonly policies: Readonly<Record<Direction, readonly string[]>>;
}

export interface AclPolicy {
  readonly key: string;
  readonly kind: 'GlobalNetworkPolicy' | 'NetworkPolicy' | 'Profile';
  readonly order: number | undefined;
  readonly rules: Readonly<Record<Direction, readonly AclRule[]>>;
  readonly applies: Readonly<Record<Direction, boolean>>;
  /** Set when the resource is invalid; its rules are then one Deny per direction. */
  readonly invalid?: string;
}

export interface AclProblem { readonly kind: string; readonly key: string; readonly reason: string }

export interface AclModel {
  /** Endpoints that get chains (all of them when the model has no node), sorted by key. */
  readonly endpoints: readonly AclEndpoint[];
  /** Every endpoint, for address lookups; policy lists are filled only for `endpoints`. */
  readonly allEndpoints: readonly AclEndpoint[];
  readonly policies: ReadonlyMap<string, AclPolicy>;
  readonly profiles: ReadonlyMap<string, AclPolicy>;
  /** Member sets by id, only those referenced by rules. */
  readonly sets: ReadonlyMap<string, MemberSet>;
  readonly problems: readonly AclProblem[];
}

interface Ctx {
  readonly eps: readonly AclEndpoint[];
  readonly nsLabels: ReadonlyMap<string, Labels>;
  readonly sets: Map<string, MemberSet>;
}

export function buildModel(snap: Snapshot, nodeName?: string): AclModel {
  const problems: AclProblem[] = [];
  const nsLabels = namespaceLabels(snap);
  const all = endpointsOf(snap, problems);
  const ctx: Ctx = { eps: all, nsLabels, sets: new Map() };
  const policies = new Map<string, AclPolicy & { select: (ep: AclEndpoint) => boolean }>();
  for (const [key, r] of snap.globalNetworkPolicies) addPolicy(policies, problems, ctx, 'GlobalNetworkPolicy', key, undefined, r.spec);
  for (const [key, r] of snap.networkPolicies) addPolicy(policies, problems, ctx, 'NetworkPolicy', key, r.metadata.namespace ?? key.split('/')[0] ?? 'default', r.spec);
  const profiles = new Map<string, AclPolicy>();
  for (const [key, r] of snap.profiles) {
    profiles.set(key, compilePolicy(ctx, problems, 'Profile', key, undefined, { ingress: r.spec.ingress, egress: r.spec.egress, types: ['Ingress', 'Egress'] }));
  }
  const ordered = [...policies.values()].sort(comparePolicies);
  // Policy lists only for the endpoints that get chains (all of them without a node).
  const withPolicies = all.map((ep) => {
    const mine = nodeName === undefined || ep.node === nodeName;
    const sel = (d: Direction): string[] => (mine ? ordered.filter((p) => p.applies[d] && p.select(ep)).map((p) => p.key) : []);
    return { ...ep, profiles: ep.profiles.filter((p) => profiles.has(p)), policies: { ingress: sel('ingress'), egress: sel('egress') } };
  });
  const local = nodeName === undefined ? withPolicies : withPolicies.filter((e) => e.node === nodeName);
  const plain = new Map<string, AclPolicy>();
  for (const [k, p] of policies) plain.set(k, { key: p.key, kind: p.kind, order: p.order, rules: p.rules, applies: p.applies, ...(p.invalid ? { invalid: p.invalid } : {}) });
  return { endpoints: local, allEndpoints: withPolicies, policies: plain, profiles, sets: ctx.sets, problems };
}

function comparePolicies(a: AclPolicy, b: AclPolicy): number {
  const ao = a.order ?? Infinity;
  const bo = b.order ?? Infinity;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function namespaceLabels(snap: Snapshot): Map<string, Labels> {
  const out = new Map<string, Labels>();
  const names = new Set<string>();
  for (const ep of snap.workloadEndpoints.values()) names.add(ep.metadata.namespace ?? 'default');
  for (const p of snap.networkPolicies.values()) names.add(p.metadata.namespace ?? 'default');
  for (const k of snap.profiles.keys()) if (k.startsWith('kns.')) names.add(k.slice(4));
  for (const ns of names) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(snap.profiles.get(`kns.${ns}`)?.spec.labelsToApply ?? {})) {
      if (k.startsWith(NS_LABEL_PREFIX)) labels[k.slice(NS_LABEL_PREFIX.length)] = v;
    }
    labels['projectcalico.org/name'] = ns;
    out.set(ns, labels);
  }
  return out;
}

/** Linux interface names: 1-15 bytes, no '/', whitespace or quotes. */
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}$/;

function endpointsOf(snap: Snapshot, problems: AclProblem[]): AclEndpoint[] {
  const out: AclEndpoint[] = [];
  for (const [key, r] of snap.workloadEndpoints) {
    if (!IFNAME.test(r.spec.interfaceName ?? '')) {
      problems.push({ kind: 'WorkloadEndpoint', key, reason: `interfaceName "${String(r.spec.interfaceName)}" is not a Linux interface name (endpoint ignored)` });
      continue;
    }
    const namespace = r.metadata.namespace ?? 'default';
    const labels: Record<string, string> = {};
    for (const prof of [...(r.spec.profiles ?? [])].reverse()) Object.assign(labels, snap.profiles.get(prof)?.spec.labelsToApply ?? {});
    Object.assign(labels, r.metadata.labels ?? {});
    labels[LABEL_NAMESPACE] = namespace;
    labels[LABEL_ORCHESTRATOR] = r.spec.orchestrator ?? 'k8s';
    let addrs: Nets = { v4: [], v6: [] };
    try { addrs = splitNets(r.spec.ipNetworks ?? [], 'spec.ipNetworks'); } catch { /* datastore validated; keep none */ }
    out.push({ key, namespace, node: r.spec.node, iface: r.spec.interfaceName, addrs, labels, profiles: r.spec.profiles ?? [], policies: { ingress: [], egress: [] } });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Calico's default `types`: Ingress unless there are only egress rules; Egress when there are egress rules. */
function defaultTypes(spec: PolicySpec): Record<Direction, boolean> {
  if (spec.types && spec.types.length > 0) return { ingress: spec.types.includes('Ingress'), egress: spec.types.includes('Egress') };
  const ingress = (spec.ingress?.length ?? 0) > 0;
  const egress = (spec.egress?.length ?? 0) > 0;
  return { ingress: ingress || !egress, egress };
}

function addPolicy(
  out: Map<string, AclPolicy & { select: (ep: AclEndpoint) => boolean }>, problems: AclProblem[], ctx: Ctx,
  kind: 'GlobalNetworkPolicy' | 'NetworkPolicy', key: string, namespace: string | undefined, spec: PolicySpec,
): void {
  let sel: Selector;
  let nsSel: Selector | null = null;
  try {
    sel = parseSelector(spec.selector ?? '');
    if (kind === 'GlobalNetworkPolicy' && spec.namespaceSelector) nsSel = parseSelector(spec.namespaceSelector);
  } catch (err) {
    problems.push({ kind, key, reason: `selector: ${errorMessage(err)} (policy ignored)` });
    return;
  }
  const select = (ep: AclEndpoint): boolean =>
    (namespace === undefined || ep.namespace === namespace) &&
    (nsSel === null || nsSel.matches(ctx.nsLabels.get(ep.namespace) ?? {})) &&
    sel.matches(ep.labels);
  out.set(key, { ...compilePolicy(ctx, problems, kind, key, namespace, spec), select });
}

const DENY_ALL: Rule = { action: 'Deny' };

function compilePolicy(ctx: Ctx, problems: AclProblem[], kind: AclPolicy['kind'], key: string, namespace: string | undefined, spec: PolicySpec): AclPolicy {
  const applies = defaultTypes(spec);
  const resolve = resolver(ctx, namespace);
  try {
    const rules = {
      ingress: (spec.ingress ?? []).map((r, i) => normalizeRule(r, i + 1, resolve, `ingress[${i}]`)),
      egress: (spec.egress ?? []).map((r, i) => normalizeRule(r, i + 1, resolve, `egress[${i}]`)),
    };
    return { key, kind, order: spec.order, rules, applies };
  } catch (err) {
    const reason = errorMessage(err);
    problems.push({ kind, key, reason: `${reason} (fail-closed: every rule replaced by Deny)` });
    const deny = normalizeRule(DENY_ALL, 1, resolve, 'invalid');
    return { key, kind, order: spec.order, rules: { ingress: [deny], egress: [deny] }, applies, invalid: reason };
  }
}

/**
 * Rule selector scoping as libcalico-go's rule conversion: when a rule side sets selector,
 * notSelector or namespaceSelector, its selector is ANDed with the namespace part (the
 * namespaceSelector, else "own namespace" for a NetworkPolicy). notSelector is not scoped.
 */
function resolver(ctx: Ctx, namespace: string | undefined): SelectorResolver {
  return (_side: 'source' | 'destination', e: EntityRule, negated: boolean): MemberSet | null => {
    if (negated) return memberSet(ctx, parseSelector(e.notSelector ?? ''), null, null);
    const nsSel = e.namespaceSelector ? parseSelector(e.namespaceSelector) : null;
    const ownNs = nsSel === null ? namespace ?? null : null;
    if (!e.selector && nsSel === null && ownNs === null) return null;
    return memberSet(ctx, parseSelector(e.selector ?? ''), nsSel, ownNs);
  };
}

function memberSet(ctx: Ctx, sel: Selector, nsSel: Selector | null, ownNs: string | null): MemberSet {
  const scope = nsSel ? ` (namespaces ${nsSel.toString()})` : ownNs !== null ? ` (namespace ${ownNs})` : '';
  const text = `${sel.toString()}${scope}`;
  const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const known = ctx.sets.get(id);
  if (known) return known;
  const v4: string[] = [];
  const v6: string[] = [];
  for (const ep of ctx.eps) {
    if (ownNs !== null && ep.namespace !== ownNs) continue;
    if (nsSel && !nsSel.matches(ctx.nsLabels.get(ep.namespace) ?? {})) continue;
    if (!sel.matches(ep.labels)) continue;
    v4.push(...ep.addrs.v4);
    v6.push(...ep.addrs.v6);
  }
  const set: MemberSet = { id, text, members: { v4: minimalCover(v4), v6: minimalCover(v6) } };
  ctx.sets.set(id, set);
  return set;
}

/** Sorted, deduplicated, without prefixes that another member covers (nft interval sets refuse overlaps). */
export function minimalCover(prefixes: readonly string[]): string[] {
  const uniq = [...new Set(prefixes)].sort((a, b) => Number(a.split('/')[1]) - Number(b.split('/')[1]) || (a < b ? -1 : 1));
  const kept: string[] = [];
  for (const p of uniq) if (!kept.some((k) => prefixContains(k, p))) kept.push(p);
  return kept.sort();
}
