// Parsers of the policy kinds GlobalNetworkPolicy, NetworkPolicy, Profile and Tier: one
// function per kind, from the resource to its typed value (model/policy.ts); the nets
// grammar of policies and endpoints (parseNets). A policy selector that does not parse, or a rule that
// does not, is kept on the value as its ModelError (selectorRefused, rulesRefused): src/acl
// keeps such a policy fail-closed rather than dropping it. Validation (src/datastore) runs
// the same rule parser, so a rule it accepts compiles as it was read.
import { canonicalPrefix, familyOf } from '../net/prefix.js';
import { parsePolicyPort } from '../net/port.js';
import { parseProtocol, PROTOCOLS } from '../net/protocol.js';
import { parseSelector, type Selector } from '../selector/index.js';
import { errorMessage } from '../util/errors.js';
import { ModelError } from './errors.js';
import { selectorField } from './parse-bgp.js';
import type { IcmpMatch, Nets, Policy, PolicyDirection, PolicyRule, PortRange, RuleAction, RulePorts, RuleSide, Tier } from './policy.js';
import type { GlobalNetworkPolicyResource, NetworkPolicyResource, PolicySpec, ProfileResource, TierResource } from './types.js';

export const DEFAULT_TIER = 'default';
/** Calico's order for the default tier. */
export const DEFAULT_TIER_ORDER = 1_000_000;

const ACTIONS: readonly RuleAction[] = ['Allow', 'Deny', 'Log', 'Pass'];
const PORT_PROTOCOLS = new Set<number>([PROTOCOLS.tcp, PROTOCOLS.udp, PROTOCOLS.sctp]);
const ALL = parseSelector('');

/** A rule field refused: `field` is its path from the resource (e.g. "spec.ingress[0].protocol"). */
class Refusal extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(reason);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'a list' : 'an object';
}

const set = (v: unknown): boolean => v !== undefined && v !== null;

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new Refusal(field, `must be a list, got ${describe(v)}`);
  return v;
}

/**
 * Nets as Calico writes them (a CIDR, host bits allowed, or a bare address as a host route),
 * canonical, split by family, deduped and sorted. Throws Error naming the bad entry.
 */
export function parseNets(texts: readonly unknown[]): Nets {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const n of texts) {
    let p: string;
    try {
      if (typeof n !== 'string') throw new Error('not a string');
      p = canonicalPrefix(n.includes('/') ? n : `${n}/${familyOf(n) === 'ipv4' ? 32 : 128}`);
    } catch {
      throw new Error(`${describe(n)} is not a valid CIDR or IP address`);
    }
    (familyOf(p) === 'ipv4' ? v4 : v6).push(p);
  }
  return { v4: [...new Set(v4)].sort(), v6: [...new Set(v6)].sort() };
}

function nets(v: unknown, field: string): Nets | null {
  if (!set(v)) return null;
  const l = list(v, field);
  if (l.length === 0) return null;
  l.forEach((n, i) => {
    try { parseNets([n]); } catch (e) { throw new Refusal(`${field}[${i}]`, errorMessage(e)); }
  });
  return parseNets(l);
}

/** A selector field; unset or empty means "not given" (null), as Calico reads it. */
function selector(v: unknown, field: string): Selector | null {
  if (!set(v) || v === '') return null;
  if (typeof v !== 'string') throw new Refusal(field, `must be a string, got ${describe(v)}`);
  const s = selectorField(v);
  if ('reason' in s) throw new Refusal(field, s.reason);
  return s.selector;
}

function ports(v: unknown, field: string): RulePorts | null {
  if (!set(v)) return null;
  const l = list(v, field);
  if (l.length === 0) return null;
  const ranges: PortRange[] = [];
  const names: string[] = [];
  l.forEach((p, i) => {
    let port;
    try {
      port = parsePolicyPort(p);
    } catch (e) {
      throw new Refusal(`${field}[${i}]`, errorMessage(e));
    }
    if ('name' in port) names.push(port.name);
    else ranges.push(port);
  });
  return { ranges, names };
}

function protocol(v: unknown, field: string): number | null {
  if (!set(v)) return null;
  try {
    return parseProtocol(v);
  } catch (e) {
    throw new Refusal(field, errorMessage(e));
  }
}

function icmp(v: unknown, field: string, proto: number | null): IcmpMatch | null {
  if (!set(v)) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Refusal(field, `must be an object, got ${describe(v)}`);
  if (proto !== PROTOCOLS.icmp && proto !== PROTOCOLS.icmpv6) throw new Refusal(field, 'needs protocol ICMP or ICMPv6');
  const o = v as { type?: unknown; code?: unknown };
  const int = (x: unknown, key: string, max: number): number | undefined => {
    if (!set(x)) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) throw new Refusal(`${field}.${key}`, `must be an integer 0..${max}, got ${describe(x)}`);
    return x;
  };
  const type = int(o.type, 'type', 254);
  const code = int(o.code, 'code', 255);
  if (type === undefined) {
    if (code !== undefined) throw new Refusal(`${field}.code`, 'needs icmp type');
    return null;
  }
  return code === undefined ? { type } : { type, code };
}

function side(v: unknown, field: string, proto: number | null): RuleSide {
  if (set(v) && (typeof v !== 'object' || Array.isArray(v))) throw new Refusal(field, `must be an object, got ${describe(v)}`);
  const e = (v ?? {}) as Record<string, unknown>;
  const p = ports(e.ports, `${field}.ports`);
  const np = ports(e.notPorts, `${field}.notPorts`);
  for (const [key, given] of [['ports', p], ['notPorts', np]] as const) {
    if (given && (proto === null || !PORT_PROTOCOLS.has(proto))) throw new Refusal(`${field}.${key}`, 'needs protocol TCP, UDP or SCTP on the rule');
  }
  let serviceAccounts: RuleSide['serviceAccounts'] = null;
  if (set(e.serviceAccounts)) {
    const sa = e.serviceAccounts as { names?: unknown; selector?: unknown };
    const names = set(sa.names) ? list(sa.names, `${field}.serviceAccounts.names`) : [];
    names.forEach((n, i) => {
      if (typeof n !== 'string') throw new Refusal(`${field}.serviceAccounts.names[${i}]`, `must be a string, got ${describe(n)}`);
    });
    const saSel = selector(sa.selector, `${field}.serviceAccounts.selector`);
    if (names.length > 0 || saSel) serviceAccounts = { names: names.length > 0 ? (names as string[]) : null, selector: saSel };
  }
  const svc = e.services as { name?: unknown; namespace?: unknown } | undefined | null;
  return {
    nets: nets(e.nets, `${field}.nets`),
    notNets: nets(e.notNets, `${field}.notNets`),
    selector: selector(e.selector, `${field}.selector`),
    notSelector: selector(e.notSelector, `${field}.notSelector`),
    namespaceSelector: selector(e.namespaceSelector, `${field}.namespaceSelector`),
    serviceAccounts,
    ports: p,
    notPorts: np,
    services: svc ? { name: String(svc.name ?? ''), ...(typeof svc.namespace === 'string' ? { namespace: svc.namespace } : {}) } : null,
  };
}

/**
 * One rule of a policy or profile; `field` is its path ("spec.ingress[0]"). Throws ModelError
 * (kind, resource, the refused field and why).
 */
export function parseRule(v: unknown, kind: string, resource: string, field: string): PolicyRule {
  try {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Refusal(field, `must be an object, got ${describe(v)}`);
    const r = v as Record<string, unknown>;
    if (r.action === undefined) throw new Refusal(`${field}.action`, `is required (one of ${ACTIONS.join(', ')})`);
    if (!ACTIONS.includes(r.action as RuleAction)) throw new Refusal(`${field}.action`, `must be one of ${ACTIONS.join(', ')}, got ${describe(r.action)}`);
    if (set(r.ipVersion) && r.ipVersion !== 4 && r.ipVersion !== 6) throw new Refusal(`${field}.ipVersion`, `must be 4 or 6, got ${describe(r.ipVersion)}`);
    const proto = protocol(r.protocol, `${field}.protocol`);
    const notProtocol = protocol(r.notProtocol, `${field}.notProtocol`);
    return {
      action: r.action as RuleAction,
      ipVersion: set(r.ipVersion) ? (r.ipVersion as 4 | 6) : null,
      protocol: proto,
      notProtocol,
      icmp: icmp(r.icmp, `${field}.icmp`, proto),
      notIcmp: icmp(r.notICMP, `${field}.notICMP`, proto),
      source: side(r.source, `${field}.source`, proto),
      destination: side(r.destination, `${field}.destination`, proto),
      http: set(r.http),
    };
  } catch (e) {
    if (e instanceof Refusal) throw new ModelError(kind, resource, e.field, e.reason);
    throw e;
  }
}

/** Calico's default `types`: Ingress unless there are only egress rules; Egress when there are egress rules. */
function appliesOf(spec: PolicySpec): Record<PolicyDirection, boolean> {
  if (Array.isArray(spec.types) && spec.types.length > 0) return { ingress: spec.types.includes('Ingress'), egress: spec.types.includes('Egress') };
  const ingress = (spec.ingress?.length ?? 0) > 0;
  const egress = (spec.egress?.length ?? 0) > 0;
  return { ingress: ingress || !egress, egress };
}

function rulesOf(spec: PolicySpec, kind: string, key: string): { rules: Policy['rules']; rulesRefused?: ModelError } {
  try {
    const dir = (d: PolicyDirection): PolicyRule[] => {
      const l = spec[d];
      if (!set(l)) return [];
      if (!Array.isArray(l)) throw new ModelError(kind, key, `spec.${d}`, `must be a list, got ${describe(l)}`);
      return l.map((r, i) => parseRule(r, kind, key, `spec.${d}[${i}]`));
    };
    return { rules: { ingress: dir('ingress'), egress: dir('egress') } };
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    return { rules: { ingress: [], egress: [] }, rulesRefused: e };
  }
}

function parsePolicyOf(kind: 'GlobalNetworkPolicy' | 'NetworkPolicy', key: string, namespace: string | undefined, spec: PolicySpec): Policy {
  let sel: Selector | null = null;
  let nsSel: Selector | null = null;
  let saSel: Selector | null = null;
  let selectorRefused: ModelError | undefined;
  try {
    sel = selector(spec.selector, 'spec.selector') ?? ALL;
    if (kind === 'GlobalNetworkPolicy') nsSel = selector(spec.namespaceSelector, 'spec.namespaceSelector');
    saSel = selector(spec.serviceAccountSelector, 'spec.serviceAccountSelector');
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    sel = null;
    selectorRefused = new ModelError(kind, key, e.field, e.reason);
  }
  const { rules, rulesRefused } = rulesOf(spec, kind, key);
  return {
    kind, key, namespace,
    tier: typeof spec.tier === 'string' && spec.tier !== '' ? spec.tier : DEFAULT_TIER,
    order: typeof spec.order === 'number' && Number.isFinite(spec.order) ? spec.order : undefined,
    selector: sel, namespaceSelector: nsSel, serviceAccountSelector: saSel,
    applies: appliesOf(spec),
    doNotTrack: spec.doNotTrack === true, preDNAT: spec.preDNAT === true, applyOnForward: spec.applyOnForward === true,
    rules,
    ...(selectorRefused ? { selectorRefused } : {}),
    ...(rulesRefused ? { rulesRefused } : {}),
  };
}

export function parseGlobalNetworkPolicy(r: GlobalNetworkPolicyResource): Policy {
  return parsePolicyOf('GlobalNetworkPolicy', r.metadata.name, undefined, r.spec ?? {});
}

/** `key` is the Snapshot's key ("namespace/name"); the namespace is metadata.namespace, else the key's. */
export function parseNetworkPolicy(r: NetworkPolicyResource, key = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`): Policy {
  return parsePolicyOf('NetworkPolicy', key, r.metadata.namespace ?? key.split('/')[0] ?? 'default', r.spec ?? {});
}

/** A Profile: its rules apply in both directions; it selects through the endpoints' profiles. */
export function parseProfile(r: ProfileResource): Policy {
  const key = r.metadata.name;
  const spec = r.spec ?? {};
  const { rules, rulesRefused } = rulesOf({ ingress: spec.ingress, egress: spec.egress } as PolicySpec, 'Profile', key);
  return {
    kind: 'Profile', key, namespace: undefined, tier: DEFAULT_TIER, order: undefined,
    selector: null, namespaceSelector: null, serviceAccountSelector: null,
    applies: { ingress: true, egress: true }, doNotTrack: false, preDNAT: false, applyOnForward: false,
    rules,
    ...(rulesRefused ? { rulesRefused } : {}),
    ...(spec.labelsToApply ? { labelsToApply: spec.labelsToApply } : {}),
  };
}

/** A Tier: order (the default tier's is Calico's 1 000 000 when unset), defaultAction Deny unless Pass. */
export function parseTier(r: TierResource): Tier {
  const name = r.metadata.name;
  const o = r.spec?.order;
  const order = typeof o === 'number' && Number.isFinite(o) ? o : name === DEFAULT_TIER ? DEFAULT_TIER_ORDER : undefined;
  return { name, order, defaultAction: r.spec?.defaultAction === 'Pass' ? 'Pass' : 'Deny' };
}
