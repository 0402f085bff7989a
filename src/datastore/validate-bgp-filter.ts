// Spec validator for BGPFilter (Calico v3 bgpfilter.go with its kubebuilder markers, and
// libcalico-go's validateBGPFilterRule / validateBGPFilterOperation): four ordered rule lists;
// each rule needs an action; cidr and matchOperator go together; prefixLength needs a cidr and
// stays within the family; the cidr's family is the list's; peerType eBGP or iBGP; communities
// holds exactly one value; asPathPrefix and prependASPath hold AS numbers (normalised to
// numbers); operations, each with exactly one field, only on Accept. The shapes are checked
// here; the model's parser (model/parse-bgp-filter.ts) then types the rule.
import { canonicalPrefix, type Family } from '../net/prefix.js';
import { parseBgpFilter } from '../model/parse-bgp-filter.js';
import { PRIORITY_MAX, PRIORITY_MIN } from '../model/route-priority.js';
import { Checker, join, type Obj } from './checker.js';
import { accepted, asResource, nonEmpty } from './validate-bgp.js';

const FILTER_LISTS = [['exportV4', 'ipv4'], ['importV4', 'ipv4'], ['exportV6', 'ipv6'], ['importV6', 'ipv6']] as const;
const FILTER_RULE = [
  'cidr', 'prefixLength', 'source', 'interface', 'matchOperator', 'peerType', 'communities', 'asPathPrefix', 'priority',
  'action', 'operations',
];
const OPERATIONS = ['addCommunity', 'prependASPath', 'setPriority'] as const;
/** Calico's validator: a Linux interface name or BIRD wildcard pattern. */
const FILTER_INTERFACE = /^[a-zA-Z0-9_.*-]{1,15}$/;

export function validateBgpFilterSpec(c: Checker, spec: Obj): Obj {
  c.knownFields(spec, FILTER_LISTS.map(([k]) => k), 'spec');
  const out: Obj = { ...spec };
  for (const [key, family] of FILTER_LISTS) {
    const list = c.optArray(spec, key, 'spec');
    if (!list) continue;
    out[key] = list.map((v, i) => filterRule(c, v, join(join('spec', key), i), family));
  }
  accepted(c, () => parseBgpFilter(asResource(c, 'BGPFilter', out)));
  return out;
}

function filterRule(c: Checker, v: unknown, p: string, family: Family): Obj {
  const r = c.object(v, p);
  c.knownFields(r, FILTER_RULE, p);
  const out: Obj = { ...r };
  if (r.action === undefined || r.action === null) c.fail(join(p, 'action'), 'is required (Accept or Reject)');
  c.oneOf(r.action, join(p, 'action'), ['Accept', 'Reject'] as const);
  const cidr = nonEmpty(r.cidr);
  const op = nonEmpty(r.matchOperator);
  if (cidr !== undefined && op === undefined) c.fail(join(p, 'matchOperator'), 'is required with cidr (Equal, NotEqual, In or NotIn)');
  if (op !== undefined && cidr === undefined) c.fail(join(p, 'cidr'), 'is required with matchOperator');
  if (op !== undefined) c.oneOf(op, join(p, 'matchOperator'), ['Equal', 'NotEqual', 'In', 'NotIn'] as const);
  const max = family === 'ipv4' ? 32 : 128;
  if (cidr !== undefined) {
    c.prefix(cidr, join(p, 'cidr'), { family, hostBits: 'forbid' });
    out.cidr = canonicalPrefix(c.string(cidr, join(p, 'cidr')));
  }
  const pl = c.optObject(r, 'prefixLength', p);
  if (pl) {
    const pp = join(p, 'prefixLength');
    c.knownFields(pl, ['min', 'max'], pp);
    if (cidr === undefined) c.fail(pp, 'needs cidr');
    const lo = c.optInt(pl, 'min', pp, 0, max);
    const hi = c.optInt(pl, 'max', pp, 0, max);
    if (lo !== undefined && hi !== undefined && lo > hi) c.fail(pp, `min ${lo} is greater than max ${hi}`);
  }
  const source = nonEmpty(r.source);
  if (source !== undefined) c.oneOf(source, join(p, 'source'), ['RemotePeers'] as const);
  const iface = nonEmpty(r.interface);
  if (iface !== undefined) {
    const s = c.string(iface, join(p, 'interface'));
    if (!FILTER_INTERFACE.test(s)) c.fail(join(p, 'interface'), `"${s}" is not an interface name or pattern (letters, digits, _ . - and *, at most 15 characters)`);
  }
  matchFields(c, r, out, p);
  const ops = c.optArray(r, 'operations', p);
  if (ops) out.operations = ops.map((o, i) => operation(c, o, join(join(p, 'operations'), i)));
  return out;
}

/** peerType, communities, asPathPrefix and priority (v3.32+). */
function matchFields(c: Checker, r: Obj, out: Obj, p: string): void {
  if (nonEmpty(r.peerType) === undefined) delete out.peerType;
  else c.oneOf(r.peerType, join(p, 'peerType'), ['eBGP', 'iBGP'] as const);
  const comm = c.optObject(r, 'communities', p);
  if (comm) {
    const cp = join(p, 'communities');
    c.knownFields(comm, ['values'], cp);
    const values = c.optArray(comm, 'values', cp);
    if (!values || values.length !== 1) c.fail(join(cp, 'values'), `must hold exactly one community value, got ${values?.length ?? 0}`);
    c.string(values[0], join(join(cp, 'values'), 0));
  }
  const path = c.optArray(r, 'asPathPrefix', p);
  if (path) out.asPathPrefix = path.map((a, i) => c.asNumber(a, join(join(p, 'asPathPrefix'), i)));
  c.optInt(r, 'priority', p, PRIORITY_MIN, PRIORITY_MAX);
}

function operation(c: Checker, v: unknown, p: string): Obj {
  const o = c.object(v, p);
  c.knownFields(o, OPERATIONS, p);
  const set = OPERATIONS.filter((k) => o[k] !== undefined && o[k] !== null);
  if (set.length !== 1) c.fail(p, `exactly one of ${OPERATIONS.join(', ')} must be set, got ${set.length === 0 ? 'none' : set.join(', ')}`);
  const out: Obj = { ...o };
  const add = c.optObject(o, 'addCommunity', p);
  if (add) {
    c.knownFields(add, ['value'], join(p, 'addCommunity'));
    c.requiredString(add, 'value', join(p, 'addCommunity'));
  }
  const prepend = c.optObject(o, 'prependASPath', p);
  if (prepend) {
    const pp = join(p, 'prependASPath');
    c.knownFields(prepend, ['prefix'], pp);
    const list = c.optArray(prepend, 'prefix', pp) ?? c.fail(join(pp, 'prefix'), 'is required');
    out.prependASPath = { ...prepend, prefix: list.map((a, i) => c.asNumber(a, join(join(pp, 'prefix'), i))) };
  }
  const prio = c.optObject(o, 'setPriority', p);
  if (prio) {
    c.knownFields(prio, ['value'], join(p, 'setPriority'));
    if (prio.value === undefined || prio.value === null) c.fail(join(join(p, 'setPriority'), 'value'), 'is required');
    c.optInt(prio, 'value', join(p, 'setPriority'), PRIORITY_MIN, PRIORITY_MAX);
  }
  return out;
}
