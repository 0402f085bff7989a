// Compiling one policy or profile for the ACL model (model.ts): its Felix name, its
// selection (workload and host endpoints), its rules normalised against the entity context
// (rules.ts), and the fail-closed form of a resource tern cannot honour: every rule a Deny
// and a problem saying why. Kept compiled policies come back from the model cache
// (incremental.ts) while nothing they depend on changed.
import type { Policy, PolicyRule, RuleSide } from '../model/policy.js';
import { parseProfile } from '../model/parse-policy.js';
import { errorMessage } from '../util/errors.js';
import { namespaceMatches, type Entity, type EntityCtx } from './entities.js';
import type { AclCache } from './incremental.js';
import { normalizeRule, resolver, type AclRule, type Direction, type MemberSet, type NamedPortSet } from './rules.js';
import { DEFAULT_ALLOW_PROFILE } from './hostendpoints.js';

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

export type Selecting = AclPolicy & {
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

export function comparePolicies(a: Selecting, b: Selecting): number {
  const ao = a.order ?? Infinity;
  const bo = b.order ?? Infinity;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.felixName < b.felixName ? -1 : a.felixName > b.felixName ? 1 : 0;
}

/** The profile every endpoint without profiles gets when no Profile resource of that name exists: allow all. */
export const DEFAULT_ALLOW: Policy = parseProfile({
  apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: DEFAULT_ALLOW_PROFILE },
  spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
});

export function addPolicy(out: Map<string, Selecting>, problems: AclProblem[], ctx: EntityCtx, tiers: Map<string, AclTier>, p: Policy, spec: unknown, cache?: AclCache): void {
  const s = cached(cache, ctx, problems, p, spec, () => selecting(ctx, problems, p));
  if (!s) return;
  if (!tiers.has(p.tier)) tiers.set(p.tier, { name: p.tier, order: undefined, defaultAction: 'Deny', exists: false });
  out.set(p.key, s);
}

/** A policy with its selection; null (and a problem) when its selector was refused. */
function selecting(ctx: EntityCtx, problems: AclProblem[], p: Policy): Selecting | null {
  if (!p.selector) {
    const e = p.selectorRefused;
    problems.push({ kind: p.kind, key: p.key, reason: `${e ? `${e.field}: ${e.reason}` : 'spec.selector: missing'} (policy ignored)` });
    return null;
  }
  const { kind, namespace, tier, key } = p;
  const sel = p.selector;
  const nsSel = p.namespaceSelector;
  const saSel = p.serviceAccountSelector;
  const name = key.slice(key.indexOf('/') + 1);
  const prefixed = name.startsWith(`${tier}.`) ? name : `${tier}.${name}`;
  const felixName = namespace === undefined ? prefixed : `${namespace}/${prefixed}`;
  const hostOnly = p.doNotTrack || p.preDNAT;
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
  const flags = { doNotTrack: p.doNotTrack, preDNAT: p.preDNAT, applyOnForward: p.applyOnForward };
  const selectionKey = [hostOnly, namespace ?? '', nsSel?.toString() ?? '', saSel?.toString() ?? '', sel.toString()].join('\u0000');
  return { ...compilePolicy(ctx, problems, p), felixName, namespace, selectionKey, select, selectHost, ...flags };
}

/**
 * compile(), or the cache's kept result while nothing it depends on changed. `spec` is the
 * raw spec the typed policy was parsed from: equal specs parse to equal values.
 */
export function cached<T extends AclPolicy | null>(cache: AclCache | undefined, ctx: EntityCtx, problems: AclProblem[], p: Policy, spec: unknown, compile: () => T): T {
  if (!cache) return compile();
  const r = cache.policy(ctx, p.key, p.kind, p.namespace, spec, () => {
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

const DENY_ALL: PolicyRule = (() => {
  const none: RuleSide = { nets: null, notNets: null, selector: null, notSelector: null, namespaceSelector: null, serviceAccounts: null, ports: null, notPorts: null, services: null };
  return { action: 'Deny', ipVersion: null, protocol: null, notProtocol: null, icmp: null, notIcmp: null, source: none, destination: none, http: false };
})();

/** Fields are named from the rule lists ("ingress[0].protocol"), as in `tern acl` output. */
const ruleField = (field: string): string => (field.startsWith('spec.') ? field.slice(5) : field);

export function compilePolicy(ctx: EntityCtx, problems: AclProblem[], p: Policy): AclPolicy {
  const { key, kind, tier, order, applies } = p;
  const resolve = resolver(ctx, p.namespace);
  try {
    if (p.rulesRefused) throw new Error(`${ruleField(p.rulesRefused.field)}: ${p.rulesRefused.reason}`);
    const rules = {
      ingress: p.rules.ingress.map((r, i) => normalizeRule(r, i + 1, resolve, `ingress[${i}]`)),
      egress: p.rules.egress.map((r, i) => normalizeRule(r, i + 1, resolve, `egress[${i}]`)),
    };
    return { key, kind, tier, order, rules, applies };
  } catch (err) {
    const reason = errorMessage(err);
    problems.push({ kind, key, reason: `${reason} (fail-closed: every rule replaced by Deny)` });
    const deny = normalizeRule(DENY_ALL, 1, resolve, 'invalid');
    return { key, kind, tier, order, rules: { ingress: [deny], egress: [deny] }, applies, invalid: reason };
  }
}
