// Rule resolution: a typed rule (model/policy.ts, parsed once at the edge: action, protocol
// numbers, port ranges and names, nets split by family, compiled selectors, ICMP) becomes an
// `AclRule`. Only what depends on the endpoints happens here: selectors are resolved to
// member sets of this snapshot's entities (scoped as libcalico-go does: `resolver`) and port
// names to address-port sets. render.ts turns AclRules into nft statements and
// explain.ts evaluates them; both read only this shape, so they cannot disagree about what a
// rule means.
//
// Invariants
// - A rule the model refused never reaches here: model.ts keeps its policy fail-closed. A
//   rule tern cannot honour (services, named notPorts) throws UnsupportedRuleError, with the
//   same outcome (see docs/acl.md, "Invalid resources").
// - `families` is the set of IP versions the rule can ever match (ipVersion, ICMP vs ICMPv6,
//   and nets that exist only in one family narrow it); an empty set means "never matches".
import type { IcmpMatch, Nets, PolicyRule, PortRange, RuleAction, RuleSide } from '../model/policy.js';
import { parseProtocol, protocolName, PROTOCOLS } from '../net/protocol.js';
import { andNot, parseSelector } from '../selector/index.js';
import { DaemonError, errorMessage } from '../util/errors.js';
import { memberSet, namedPortSet, type EntityCtx, type Pick } from './entities.js';

export type Direction = 'ingress' | 'egress';
export type IpVersion = 4 | 6;
export type Action = RuleAction;
export type { IcmpMatch, Nets, PortRange } from '../model/policy.js';

export { PROTOCOLS, protocolName } from '../net/protocol.js';

export class RuleError extends DaemonError {
  override readonly name = 'RuleError';
  constructor(field: string, reason: string) {
    super('ERR_ACL_RULE_INVALID', `${field}: ${reason}`, { field, reason });
  }
}


/** The endpoints a rule selector picks, as a pair of named nft sets (one per family). */
export interface MemberSet {
  readonly id: string;
  /** Human form: the scoped selector, e.g. `role == "db" (namespace default)`. */
  readonly text: string;
  readonly members: Nets;
}

/** `address . port` pairs of the endpoints whose named ports match (one set per family). */
export interface NamedPortSet {
  readonly id: string;
  readonly text: string;
  readonly names: readonly string[];
  /** "10.65.1.1 . 5432" (IPv4), "fd00::1 . 5432" (IPv6). */
  readonly members: Nets;
}

export interface EntityMatch {
  readonly nets: Nets | null;
  readonly notNets: Nets | null;
  readonly selector: MemberSet | null;
  readonly notSelector: MemberSet | null;
  /** Numeric ports; with `namedPorts` the side matches either (Felix ORs them). */
  readonly ports: readonly PortRange[] | null;
  readonly namedPorts: NamedPortSet | null;
  readonly notPorts: readonly PortRange[] | null;
}


export interface AclRule {
  /** 1-based position in its policy's rule list for this direction. */
  readonly index: number;
  readonly action: Action;
  readonly families: ReadonlySet<IpVersion>;
  readonly protocol: number | null;
  readonly notProtocol: number | null;
  readonly icmp: IcmpMatch | null;
  readonly notIcmp: IcmpMatch | null;
  readonly source: EntityMatch;
  readonly destination: EntityMatch;
  /** The rule had an HTTP match, which Felix ignores without an application-layer proxy. */
  readonly httpIgnored: boolean;
  /** Short description for logs and explain: "Allow tcp dst 5432". */
  readonly summary: string;
}

/** Resolves rule selectors (scoped by the caller to the policy's namespace) to member sets. */
export interface SelectorResolver {
  /** The side's selector (negated: its notSelector); null when the side selects by address only. */
  members(entity: RuleSide, negated: boolean): MemberSet | null;
  /** The named ports `names` (protocol number) of the endpoints the side's selector picks. */
  namedPorts(entity: RuleSide, names: readonly string[], protocol: number): NamedPortSet;
}

/** A protocol as a number: the one grammar (src/net/protocol.ts); RuleError names the field. */
export function protocolNumber(p: string | number, field: string): number {
  try {
    return parseProtocol(p);
  } catch (e) {
    throw new RuleError(field, errorMessage(e));
  }
}

/** Thrown for a field Calico has but tern cannot honour here: the policy fails closed. */
export class UnsupportedRuleError extends RuleError {}

function entity(x: RuleSide, resolve: SelectorResolver, field: string, protocol: number | null): EntityMatch {
  if (x.services) {
    throw new UnsupportedRuleError(`${field}.services`, `service "${x.services.namespace ?? ''}/${x.services.name}" needs Kubernetes endpoint data, which tern does not have`);
  }
  if (x.notPorts && x.notPorts.names.length > 0) {
    throw new UnsupportedRuleError(`${field}.notPorts`, `named ports (${x.notPorts.names.join(', ')}) in notPorts are not supported by tern`);
  }
  const split = x.ports;
  const scoped = Boolean(x.selector || x.notSelector || x.namespaceSelector || x.serviceAccounts);
  const named = split && split.names.length > 0 && protocol !== null ? resolve.namedPorts(x, split.names, protocol) : null;
  return {
    nets: x.nets,
    notNets: x.notNets,
    selector: scoped ? resolve.members(x, false) : null,
    notSelector: x.notSelector ? resolve.members(x, true) : null,
    ports: split && (split.ranges.length > 0 || named === null) ? split.ranges : null,
    namedPorts: named,
    notPorts: x.notPorts ? x.notPorts.ranges : null,
  };
}

function narrowFamilies(families: Set<IpVersion>, nets: Nets | null): void {
  if (!nets) return;
  if (nets.v4.length === 0) families.delete(4);
  if (nets.v6.length === 0) families.delete(6);
}

/**
 * One typed rule (model/policy.ts) with its selectors resolved to member sets and its named
 * ports to address-port sets; throws UnsupportedRuleError for what tern cannot honour.
 */
export function normalizeRule(rule: PolicyRule, index: number, resolve: SelectorResolver, field: string): AclRule {
  const { protocol, notProtocol, icmp, notIcmp } = rule;
  const source = entity(rule.source, resolve, `${field}.source`, protocol);
  const destination = entity(rule.destination, resolve, `${field}.destination`, protocol);
  const families = new Set<IpVersion>(rule.ipVersion === null ? [4, 6] : [rule.ipVersion]);
  if (protocol === PROTOCOLS.icmp) families.delete(6);
  if (protocol === PROTOCOLS.icmpv6) families.delete(4);
  // Felix's FilterRuleToIPVersion: nets or notNets with no CIDR of a family drop the rule there.
  for (const e of [source, destination]) {
    narrowFamilies(families, e.nets);
    narrowFamilies(families, e.notNets);
  }
  const r = { index, action: rule.action, families, protocol, notProtocol, icmp, notIcmp, source, destination, httpIgnored: rule.http };
  return { ...r, summary: summarize(r) };
}

function portsText(ps: readonly PortRange[]): string {
  return ps.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}:${p.to}`)).join(',');
}

function netsText(n: Nets): string {
  return [...n.v4, ...n.v6].join(',');
}

function entityText(e: EntityMatch, tag: 'src' | 'dst'): string[] {
  const out: string[] = [];
  if (e.nets) out.push(`${tag} net ${netsText(e.nets)}`);
  if (e.notNets) out.push(`${tag} not net ${netsText(e.notNets)}`);
  if (e.selector) out.push(`${tag} selector ${e.selector.text}`);
  if (e.notSelector) out.push(`${tag} not selector ${e.notSelector.text}`);
  if (e.ports || e.namedPorts) out.push(`${tag} ${[e.ports ? portsText(e.ports) : '', ...(e.namedPorts?.names ?? [])].filter(Boolean).join(',')}`);
  if (e.notPorts) out.push(`${tag} not ${portsText(e.notPorts)}`);
  return out;
}

function summarize(r: Omit<AclRule, 'summary'>): string {
  const parts: string[] = [r.action];
  if (r.families.size === 1) parts.push(`ipv${[...r.families][0]}`);
  if (r.protocol !== null) parts.push(protocolName(r.protocol));
  if (r.notProtocol !== null) parts.push(`not ${protocolName(r.notProtocol)}`);
  if (r.icmp) parts.push(`type ${r.icmp.type}${r.icmp.code === undefined ? '' : ` code ${r.icmp.code}`}`);
  if (r.notIcmp) parts.push(`not type ${r.notIcmp.type}${r.notIcmp.code === undefined ? '' : ` code ${r.notIcmp.code}`}`);
  parts.push(...entityText(r.source, 'src'), ...entityText(r.destination, 'dst'));
  if (r.httpIgnored) parts.push('(http match ignored, as Felix without an application-layer proxy)');
  if (r.families.size === 0) parts.push('(matches no address family)');
  return parts.join(' ');
}

const ALL = parseSelector('');

/**
 * Rule selector scoping as libcalico-go's rule conversion: when a rule side sets selector,
 * notSelector, namespaceSelector or serviceAccounts, its selector is ANDed with the namespace
 * part (the namespaceSelector, else "own namespace" for a NetworkPolicy) and the service
 * account match. notSelector is not scoped; it is folded into that selector when there is
 * one (see `folds`). A side that sets none of them has no selector,
 * so its named ports are those of every endpoint (Felix's rule scanner: all()).
 */
export function resolver(ctx: EntityCtx, namespace: string | undefined): SelectorResolver {
  // Felix's rule scanner (combineMatchesIfPossible): a notSelector on a side with a positive
  // selector (its selector, namespace scope or service accounts) is folded into it, one set of
  // the entities matching `(selector) && !(notSelector)`; only without one is it a set apart.
  const folds = (e: RuleSide): boolean =>
    e.notSelector !== null && Boolean(e.selector || e.namespaceSelector || e.serviceAccounts || namespace !== undefined);
  const pick = (e: RuleSide): Pick => {
    const nsSel = e.namespaceSelector;
    const sa = e.serviceAccounts;
    const selects = Boolean(e.selector || e.notSelector || nsSel || sa);
    const ownNs = nsSel === null && selects ? namespace ?? null : null;
    return {
      sel: folds(e) ? andNot(e.selector ?? ALL, e.notSelector!) : e.selector ?? ALL,
      nsSel,
      ownNs,
      saNames: sa?.names ? [...sa.names] : null,
      saSel: sa?.selector ?? null,
    };
  };
  return {
    members(e: RuleSide, negated: boolean): MemberSet | null {
      if (negated) return folds(e) ? null : memberSet(ctx, { sel: e.notSelector ?? ALL, nsSel: null, ownNs: null, saNames: null, saSel: null });
      const p = pick(e);
      if (!e.selector && p.nsSel === null && p.ownNs === null && !p.saNames && !p.saSel) return null;
      return memberSet(ctx, p);
    },
    namedPorts(e: RuleSide, names: readonly string[], protocol: number): NamedPortSet {
      return namedPortSet(ctx, pick(e), names, protocol);
    },
  };
}
