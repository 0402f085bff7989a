// The BGPFilter parser: four ordered rule lists, each rule typed (canonical cidr with its
// operator, prefix lengths with Calico's defaults, peer type, community, AS path prefix,
// priority, the operations of an Accept: addCommunity, prependASPath, setPriority, on import
// and export rules alike as in Calico v3.32). What breaks Calico's rules is refused here,
// naming the field, so the validator and bgpModel() refuse it alike.
import { canonicalPrefix } from '../net/prefix.js';
import { errorMessage } from '../util/errors.js';
import { asNumberFromText, isValidAs } from './asn.js';
import { communityValue } from './community.js';
import { ModelError } from './errors.js';
import { PRIORITY_EXPECTED, routePriority } from './route-priority.js';
import type { BgpFilter, BgpFilterOperation, BgpFilterRule } from './bgp.js';
import type { BGPFilterOperation, BGPFilterResource, BGPFilterRule } from './types.js';

const LISTS = [['exportV4', 'ipv4'], ['importV4', 'ipv4'], ['exportV6', 'ipv6'], ['importV6', 'ipv6']] as const;

/** Calico's limits (bgpfilter.go kubebuilder markers): operations and prepended ASNs. */
export const MAX_OPERATIONS = 10;
export const MAX_PREPEND = 10;


export function parseBgpFilter(r: BGPFilterResource): BgpFilter {
  const name = r.metadata.name;
  const fail = (field: string, reason: string): never => { throw new ModelError('BGPFilter', name, field, reason); };
  const out: Record<string, BgpFilterRule[]> = {};
  for (const [key, family] of LISTS) {
    out[key] = (r.spec[key] ?? []).map((x, i) => parseRule(x, family, `spec.${key}[${i}]`, fail));
  }
  return { name, exportV4: out.exportV4 ?? [], importV4: out.importV4 ?? [], exportV6: out.exportV6 ?? [], importV6: out.importV6 ?? [] };
}

type Fail = (field: string, reason: string) => never;

function parseRule(x: BGPFilterRule, family: 'ipv4' | 'ipv6', field: string, fail: Fail): BgpFilterRule {
  const max = family === 'ipv4' ? 32 : 128;
  let cidr: string | undefined;
  if (x.cidr) {
    try {
      cidr = canonicalPrefix(String(x.cidr));
    } catch (e) {
      fail(`${field}.cidr`, `${JSON.stringify(x.cidr)}: ${errorMessage(e)}`);
    }
  }
  if (x.peerType !== undefined && x.peerType !== 'eBGP' && x.peerType !== 'iBGP') {
    fail(`${field}.peerType`, `must be eBGP or iBGP, got ${JSON.stringify(x.peerType)}`);
  }
  const priority = x.priority === undefined || x.priority === null ? undefined : priorityOf(x.priority, `${field}.priority`, fail);
  const ops = x.operations ?? [];
  if (ops.length > 0 && x.action !== 'Accept') fail(`${field}.operations`, 'may only be used with action Accept');
  if (ops.length > MAX_OPERATIONS) fail(`${field}.operations`, `at most ${MAX_OPERATIONS} operations, got ${ops.length}`);
  const values = x.communities?.values;
  if (x.communities && (!Array.isArray(values) || values.length !== 1)) fail(`${field}.communities.values`, 'must hold exactly one community value');
  const community = values?.[0] === undefined ? undefined : communityOf(values[0], `${field}.communities.values[0]`, fail);
  const asPathPrefix = x.asPathPrefix && x.asPathPrefix.length > 0
    ? x.asPathPrefix.map((a, i) => asnOf(a, `${field}.asPathPrefix[${i}]`, fail))
    : undefined;
  return {
    action: x.action,
    ...(cidr && x.matchOperator ? { match: { cidr, operator: x.matchOperator } } : {}),
    ...(cidr && x.prefixLength ? { prefixLength: { min: x.prefixLength.min ?? 0, max: x.prefixLength.max ?? max } } : {}),
    remotePeers: x.source === 'RemotePeers',
    ...(x.interface ? { interface: x.interface } : {}),
    ...(x.peerType ? { peerType: x.peerType } : {}),
    ...(community !== undefined ? { community } : {}),
    ...(asPathPrefix ? { asPathPrefix } : {}),
    ...(priority !== undefined ? { priority } : {}),
    operations: ops.map((op, i) => operationOf(op, `${field}.operations[${i}]`, fail)),
  };
}

function operationOf(op: BGPFilterOperation, field: string, fail: Fail): BgpFilterOperation {
  const set = (['addCommunity', 'prependASPath', 'setPriority'] as const).filter((k) => op[k] !== undefined && op[k] !== null);
  if (set.length !== 1) {
    fail(field, `exactly one of addCommunity, prependASPath, setPriority must be set, got ${set.length === 0 ? 'none' : set.join(', ')}`);
  }
  if (op.setPriority) return { kind: 'setPriority', priority: priorityOf(op.setPriority.value, `${field}.setPriority.value`, fail) };
  if (op.addCommunity) return { kind: 'addCommunity', community: communityOf(op.addCommunity.value, `${field}.addCommunity.value`, fail) };
  const prefix = op.prependASPath?.prefix;
  if (!Array.isArray(prefix) || prefix.length === 0 || prefix.length > MAX_PREPEND) {
    fail(`${field}.prependASPath.prefix`, `must hold 1 to ${MAX_PREPEND} AS numbers`);
  }
  return { kind: 'prependAsPath', asns: prefix!.map((a, i) => asnOf(a, `${field}.prependASPath.prefix[${i}]`, fail)) };
}

function priorityOf(v: unknown, field: string, fail: Fail): number {
  return routePriority(v) ?? fail(field, `must be ${PRIORITY_EXPECTED}, got ${JSON.stringify(v)}`);
}

function communityOf(v: unknown, field: string, fail: Fail): string {
  const c = typeof v === 'string' ? communityValue(v) : undefined;
  return c ?? fail(field, `${JSON.stringify(v)} is not a community ("aa:nn", each 0-65535, or large "aa:nn:mm", each 0-4294967295)`);
}

function asnOf(v: unknown, field: string, fail: Fail): number {
  const n = typeof v === 'string' ? asNumberFromText(v) : v;
  return isValidAs(n) ? n : fail(field, `${JSON.stringify(v)} is not an AS number (1-4294967295, or dotted A.B)`);
}
