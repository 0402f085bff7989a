// Rule normalization: a Calico `Rule` (edge type) becomes an `AclRule` whose every field is
// already parsed — protocol numbers, port ranges, nets split by family, selectors resolved to
// member sets. render.ts turns AclRules into nft statements and explain.ts evaluates them;
// both read only this shape, so they cannot disagree about what a rule means.
//
// Invariants
// - A rule that Calico's validation would refuse throws RuleError; model.ts turns that into a
//   fail-closed policy (see docs/acl.md, "Invalid resources").
// - `families` is the set of IP versions the rule can ever match (ipVersion, ICMP vs ICMPv6,
//   and nets that exist only in one family narrow it); an empty set means "never matches".
import type { Rule, EntityRule, IcmpFields } from '../model/types.js';
import { canonicalPrefix, familyOf } from '../net/prefix.js';
import { parsePolicyPort, type PolicyPort } from '../net/port.js';
import { parseProtocol, protocolName, PROTOCOLS } from '../net/protocol.js';
import { DaemonError, errorMessage } from '../util/errors.js';

export type Direction = 'ingress' | 'egress';
export type IpVersion = 4 | 6;
export type Action = Rule['action'];

export { PROTOCOLS, protocolName } from '../net/protocol.js';
const PORT_PROTOCOLS = new Set<number>([PROTOCOLS.tcp, PROTOCOLS.udp, PROTOCOLS.sctp]);

export class RuleError extends DaemonError {
  override readonly name = 'RuleError';
  constructor(field: string, reason: string) {
    super('ERR_ACL_RULE_INVALID', `${field}: ${reason}`, { field, reason });
  }
}

export interface PortRange { readonly from: number; readonly to: number }
export interface Nets { readonly v4: readonly string[]; readonly v6: readonly string[] }

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

export interface IcmpMatch { readonly type: number; readonly code?: number }

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
  members(entity: EntityRule, negated: boolean): MemberSet | null;
  /** The named ports `names` (protocol number) of the endpoints the side's selector picks. */
  namedPorts(entity: EntityRule, names: readonly string[], protocol: number): NamedPortSet;
}

/** A rule's protocol as a number: the one grammar (src/net/protocol.ts); RuleError names the field. */
export function protocolNumber(p: string | number, field: string): number {
  try {
    return parseProtocol(p);
  } catch (e) {
    throw new RuleError(field, errorMessage(e));
  }
}

/** Splits a ports list into numeric ranges and port names (one grammar: src/net/port.ts). */
export function splitPorts(list: readonly (number | string)[], field: string): { ranges: PortRange[]; names: string[] } {
  const ranges: PortRange[] = [];
  const names: string[] = [];
  for (const p of list) {
    const port = policyPort(p, field);
    if ('name' in port) names.push(port.name);
    else ranges.push(port);
  }
  return { ranges, names };
}

/** Numeric ports and ranges only (a port name is an error here). */
export function parsePorts(list: readonly (number | string)[], field: string): PortRange[] {
  const { ranges, names } = splitPorts(list, field);
  if (names.length > 0) throw new RuleError(field, `"${names[0]}" is not a port or range here (named ports only in ports, not notPorts)`);
  return ranges;
}

function policyPort(p: number | string, field: string): PolicyPort {
  try {
    return parsePolicyPort(p);
  } catch (err) {
    const reason = (err as Error).message;
    throw new RuleError(field, reason.includes(String(p)) ? reason : `${JSON.stringify(p)}: ${reason}`);
  }
}

export function splitNets(list: readonly string[], field: string): Nets {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const n of list) {
    let p: string;
    try {
      p = canonicalPrefix(n.includes('/') ? n : `${n}/${familyOf(n) === 'ipv4' ? 32 : 128}`);
    } catch (err) {
      throw new RuleError(field, `"${n}" is not a CIDR (${(err as Error).message})`);
    }
    (familyOf(p) === 'ipv4' ? v4 : v6).push(p);
  }
  return { v4: [...new Set(v4)].sort(), v6: [...new Set(v6)].sort() };
}

function icmpMatch(f: IcmpFields | undefined, field: string): IcmpMatch | null {
  if (f === undefined) return null;
  if (f.type === undefined) {
    if (f.code !== undefined) throw new RuleError(field, 'code needs a type');
    return null;
  }
  if (f.type < 0 || f.type > 254 || (f.code !== undefined && (f.code < 0 || f.code > 255))) throw new RuleError(field, 'type or code out of range');
  return f.code === undefined ? { type: f.type } : { type: f.type, code: f.code };
}

function numericNotPorts(list: readonly (number | string)[], field: string): PortRange[] {
  const { ranges, names } = splitPorts(list, field);
  if (names.length > 0) throw new UnsupportedRuleError(field, `named ports (${names.join(', ')}) in notPorts are not supported by tern`);
  return ranges;
}

/** Thrown for a field Calico has but tern cannot honour here: the policy fails closed. */
export class UnsupportedRuleError extends RuleError {}

function entity(e: EntityRule | undefined, resolve: SelectorResolver, field: string, protocol: number | null): EntityMatch {
  const x = e ?? {};
  if (x.services) {
    throw new UnsupportedRuleError(`${field}.services`, `service "${x.services.namespace ?? ''}/${x.services.name}" needs Kubernetes endpoint data, which tern does not have`);
  }
  const split = x.ports?.length ? splitPorts(x.ports, `${field}.ports`) : null;
  const scoped = Boolean(x.selector || x.notSelector || x.namespaceSelector || x.serviceAccounts?.names?.length || x.serviceAccounts?.selector);
  const named = split && split.names.length > 0 && protocol !== null ? resolve.namedPorts(x, split.names, protocol) : null;
  return {
    nets: x.nets?.length ? splitNets(x.nets, `${field}.nets`) : null,
    notNets: x.notNets?.length ? splitNets(x.notNets, `${field}.notNets`) : null,
    selector: scoped ? resolve.members(x, false) : null,
    notSelector: x.notSelector ? resolve.members(x, true) : null,
    ports: split && (split.ranges.length > 0 || named === null) ? split.ranges : null,
    namedPorts: named,
    notPorts: x.notPorts?.length ? numericNotPorts(x.notPorts, `${field}.notPorts`) : null,
  };
}

function narrowFamilies(families: Set<IpVersion>, nets: Nets | null): void {
  if (!nets) return;
  if (nets.v4.length === 0) families.delete(4);
  if (nets.v6.length === 0) families.delete(6);
}

/** Normalizes one Calico rule; throws RuleError for what Calico's validation refuses. */
export function normalizeRule(rule: Rule, index: number, resolve: SelectorResolver, field: string): AclRule {
  if (!['Allow', 'Deny', 'Log', 'Pass'].includes(rule.action)) throw new RuleError(`${field}.action`, `unknown action "${String(rule.action)}"`);
  const protocol = rule.protocol === undefined ? null : protocolNumber(rule.protocol, `${field}.protocol`);
  const notProtocol = rule.notProtocol === undefined ? null : protocolNumber(rule.notProtocol, `${field}.notProtocol`);
  const usesPorts = [rule.source, rule.destination].some((e) => e?.ports?.length || e?.notPorts?.length);
  if (usesPorts && (protocol === null || !PORT_PROTOCOLS.has(protocol))) {
    throw new RuleError(`${field}`, 'ports need protocol TCP, UDP or SCTP');
  }
  const source = entity(rule.source, resolve, `${field}.source`, protocol);
  const destination = entity(rule.destination, resolve, `${field}.destination`, protocol);
  const icmp = icmpMatch(rule.icmp, `${field}.icmp`);
  const notIcmp = icmpMatch(rule.notICMP, `${field}.notICMP`);
  const families = new Set<IpVersion>([4, 6]);
  if (rule.ipVersion !== undefined) {
    if (rule.ipVersion !== 4 && rule.ipVersion !== 6) throw new RuleError(`${field}.ipVersion`, 'must be 4 or 6');
    families.clear();
    families.add(rule.ipVersion);
  }
  if (icmp || notIcmp) {
    if (protocol !== PROTOCOLS.icmp && protocol !== PROTOCOLS.icmpv6) throw new RuleError(`${field}.icmp`, 'needs protocol ICMP or ICMPv6');
  }
  if (protocol === PROTOCOLS.icmp) families.delete(6);
  if (protocol === PROTOCOLS.icmpv6) families.delete(4);
  // Felix's FilterRuleToIPVersion: nets or notNets with no CIDR of a family drop the rule there.
  for (const e of [source, destination]) {
    narrowFamilies(families, e.nets);
    narrowFamilies(families, e.notNets);
  }
  const httpIgnored = rule.http !== undefined && rule.http !== null;
  const r = { index, action: rule.action, families, protocol, notProtocol, icmp, notIcmp, source, destination, httpIgnored };
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
