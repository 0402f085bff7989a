// Selectable entities: everything a rule selector can pick, with the labels Felix gives it —
// WorkloadEndpoints and HostEndpoints (of every node), NetworkSets and GlobalNetworkSets —
// and the member sets a rule selector resolves to (addresses, and address.port pairs for
// named ports).
//
// Invariants
// - Endpoint labels are, lowest precedence first: the profiles' labelsToApply (an earlier
//   profile wins over a later one), the endpoint's own labels, then
//   projectcalico.org/namespace and projectcalico.org/orchestrator (WorkloadEndpoints).
//   A NetworkSet carries its own labels plus projectcalico.org/namespace; global entities
//   (GlobalNetworkSet, HostEndpoint) carry no namespace label and have `namespace: null`.
// - Service accounts as Calico carries them: the endpoint's `projectcalico.org/serviceaccount`
//   label (or spec.serviceAccountName) is the name; the `pcsa.*` labelsToApply of profile
//   `ksa.<namespace>.<name>` (prefix stripped) are the account's labels. A serviceAccounts
//   selector is a label selector on those labels (libcalico-go prefixes its keys with `pcsa.`),
//   so an entity without an account (no labels) matches `all()` or `k != 'v'` there.
// - A namespaceSelector is evaluated for a global entity as libcalico-go rewrites it (keys
//   prefixed `pcns.`, global() → "!has(projectcalico.org/namespace)", all() →
//   "has(projectcalico.org/namespace)"): no namespace labels, global() true, all() false. So
//   global(), and also `!has(team)` or `team != 'red'`, select GlobalNetworkSets and HostEndpoints.
// - Address sets never hold a prefix covered by another (nft interval sets refuse overlaps);
//   minimalCover is O(n log n).
import { createHash } from 'node:crypto';
import type { NamedPort, PolicyModel } from '../model/policy.js';
import type { Snapshot } from '../model/types.js';
import { parseAddress, parsePrefix } from '../net/prefix.js';
import type { Labels, Selector } from '../selector/index.js';
import type { MemberSet, NamedPortSet, Nets } from './rules.js';
import { runSteps } from './steps.js';

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';
const NS_LABEL_PREFIX = 'pcns.';
const SA_LABEL_PREFIX = 'pcsa.';

export type { NamedPort } from '../model/policy.js';

export interface Entity {
  readonly kind: 'WorkloadEndpoint' | 'HostEndpoint' | 'NetworkSet' | 'GlobalNetworkSet';
  /** Datastore key: "namespace/name" for namespaced kinds. */
  readonly key: string;
  /** null for global (non-namespaced) entities. */
  readonly namespace: string | null;
  readonly labels: Labels;
  readonly addrs: Nets;
  readonly ports: readonly NamedPort[];
  /** Service account name and labels (WorkloadEndpoints only). */
  readonly serviceAccount: string | null;
  readonly saLabels: Labels;
}

export interface EntityCtx {
  readonly entities: readonly Entity[];
  readonly nsLabels: ReadonlyMap<string, Labels>;
  readonly sets: Map<string, MemberSet>;
  readonly namedSets: Map<string, NamedPortSet>;
  /** Sets kept between builds (incremental.ts): a known id is not evaluated again. */
  readonly keep?: SetKeeper;
}

/** Keeps member and named-port sets between builds; `make` builds one from the entities it picks. */
export interface SetKeeper {
  get<T extends MemberSet | NamedPortSet>(ctx: EntityCtx, id: string, p: Pick, make: (picked: readonly Entity[]) => T): T;
}

/** Builds an entity, or hands back the previous build's when its resource did not change. */
export type EntityReuse = (kind: Entity['kind'], key: string, resource: unknown, make: () => Entity) => Entity;

export function namespaceLabels(snap: Snapshot): Map<string, Labels> {
  const out = new Map<string, Labels>();
  const names = new Set<string>();
  for (const ep of snap.workloadEndpoints.values()) names.add(ep.metadata.namespace ?? 'default');
  for (const p of snap.networkPolicies.values()) names.add(p.metadata.namespace ?? 'default');
  for (const s of snap.networkSets.values()) names.add(s.metadata.namespace ?? 'default');
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

function profileLabels(snap: Snapshot, profiles: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const prof of [...profiles].reverse()) Object.assign(labels, snap.profiles.get(prof)?.spec.labelsToApply ?? {});
  return labels;
}

/** Service-account labels of a workload: `pcsa.*` of profile ksa.<ns>.<sa>, plus its name. */
function saLabelsOf(snap: Snapshot, ns: string, sa: string | null, labels: Labels): Labels {
  if (sa === null) return {};
  const out: Record<string, string> = {};
  const fromProfile = snap.profiles.get(`ksa.${ns}.${sa}`)?.spec.labelsToApply ?? {};
  for (const src of [fromProfile, labels]) {
    for (const [k, v] of Object.entries(src)) if (k.startsWith(SA_LABEL_PREFIX)) out[k.slice(SA_LABEL_PREFIX.length)] = v;
  }
  out['projectcalico.org/name'] = sa;
  return out;
}

/** Every selectable entity of the snapshot (all nodes), sorted by kind then key. */
export function entitiesOf(snap: Snapshot, typed: PolicyModel, valid: (key: string) => boolean, reuse?: EntityReuse): Entity[] {
  return runSteps(entitySteps(snap, typed, valid, reuse));
}

/** entitiesOf in steps (a yield every 128 endpoints). */
export function* entitySteps(snap: Snapshot, typed: PolicyModel, valid: (key: string) => boolean, reuse: EntityReuse = (_k, _key, _r, make) => make()): Generator<void, Entity[]> {
  const out: Entity[] = [];
  let n = 0;
  for (const [key, r] of snap.workloadEndpoints) {
    if ((++n & 127) === 0) yield;
    if (!valid(key)) continue;
    out.push(reuse('WorkloadEndpoint', key, r, () => {
      const w = typed.workloadEndpoints.get(key)!;
      const namespace = w.namespace ?? 'default';
      const labels: Record<string, string> = { ...profileLabels(snap, w.profiles), ...w.labels };
      labels[LABEL_NAMESPACE] = namespace;
      labels[LABEL_ORCHESTRATOR] = w.orchestrator;
      const sa = labels[LABEL_SERVICE_ACCOUNT] ?? w.serviceAccountName ?? null;
      if (sa !== null) labels[LABEL_SERVICE_ACCOUNT] = sa;
      return {
        kind: 'WorkloadEndpoint', key, namespace, labels, addrs: w.addrs, ports: w.ports,
        serviceAccount: sa, saLabels: saLabelsOf(snap, namespace, sa, labels),
      };
    }));
  }
  for (const [key, r] of snap.hostEndpoints) {
    out.push(reuse('HostEndpoint', key, r, () => {
      const h = typed.hostEndpoints.get(key)!;
      const labels = { ...profileLabels(snap, h.profiles), ...h.labels };
      return { kind: 'HostEndpoint', key, namespace: null, labels, addrs: h.addrs, ports: h.ports, serviceAccount: null, saLabels: {} };
    }));
  }
  for (const [key, r] of snap.networkSets) {
    out.push(reuse('NetworkSet', key, r, () => {
      const n = typed.networkSets.get(key)!;
      const namespace = n.namespace ?? 'default';
      const labels = { ...n.labels, [LABEL_NAMESPACE]: namespace };
      return { kind: 'NetworkSet', key, namespace, labels, addrs: n.nets, ports: [], serviceAccount: null, saLabels: {} };
    }));
  }
  for (const [key, r] of snap.globalNetworkSets) {
    out.push(reuse('GlobalNetworkSet', key, r, () => {
      const n = typed.globalNetworkSets.get(key)!;
      return { kind: 'GlobalNetworkSet', key, namespace: null, labels: { ...n.labels }, addrs: n.nets, ports: [], serviceAccount: null, saLabels: {} };
    }));
  }
  return out;
}

/**
 * A namespaceSelector against an entity: its namespace's labels; for a global entity no
 * labels, with global() true and all() false (libcalico-go's rewrite of the selector).
 */
export function namespaceMatches(ctx: EntityCtx, nsSel: Selector, e: Entity): boolean {
  if (e.namespace === null) return nsSel.matches({}, { global: true, all: false });
  return nsSel.matches(ctx.nsLabels.get(e.namespace) ?? { 'projectcalico.org/name': e.namespace });
}

/** What a rule side's selector picks: label selector, namespace scope, service accounts. */
export interface Pick {
  readonly sel: Selector;
  readonly nsSel: Selector | null;
  readonly ownNs: string | null;
  readonly saNames: readonly string[] | null;
  readonly saSel: Selector | null;
}

function pickText(p: Pick): string {
  const scope = p.nsSel ? ` (namespaces ${p.nsSel.toString()})` : p.ownNs !== null ? ` (namespace ${p.ownNs})` : '';
  const sa = [
    p.saNames ? `serviceaccount in {${p.saNames.join(',')}}` : '',
    p.saSel ? `serviceaccount ${p.saSel.toString()}` : '',
  ].filter(Boolean).join(' && ');
  return `${p.sel.toString()}${scope}${sa ? ` (${sa})` : ''}`;
}

/** Whether a rule side's selector picks the entity. */
export function pickMatches(ctx: EntityCtx, p: Pick, e: Entity): boolean {
  if (p.ownNs !== null && e.namespace !== p.ownNs) return false;
  if (p.nsSel && !namespaceMatches(ctx, p.nsSel, e)) return false;
  if (p.saNames && (e.serviceAccount === null || !p.saNames.includes(e.serviceAccount))) return false;
  if (p.saSel && !p.saSel.matches(e.saLabels)) return false;
  return p.sel.matches(e.labels);
}

export function picked(ctx: EntityCtx, p: Pick): Entity[] {
  return ctx.entities.filter((e) => pickMatches(ctx, p, e));
}

const idOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

export function memberSet(ctx: EntityCtx, p: Pick): MemberSet {
  const text = pickText(p);
  const id = idOf(text);
  const known = ctx.sets.get(id);
  if (known) return known;
  const make = (es: readonly Entity[]): MemberSet => {
    const v4: string[] = [];
    const v6: string[] = [];
    for (const e of es) {
      for (const a of e.addrs.v4) v4.push(a);
      for (const a of e.addrs.v6) v6.push(a);
    }
    return { id, text, members: { v4: minimalCover(v4), v6: minimalCover(v6) } };
  };
  const set = ctx.keep ? ctx.keep.get(ctx, id, p, make) : make(picked(ctx, p));
  ctx.sets.set(id, set);
  return set;
}

/** The `address . port` pairs of the picked entities' ports with these names and protocol. */
export function namedPortSet(ctx: EntityCtx, p: Pick, names: readonly string[], protocol: number): NamedPortSet {
  const text = `${pickText(p)} ports ${[...names].sort().join(',')}/${protocol}`;
  const id = idOf(text);
  const known = ctx.namedSets.get(id);
  if (known) return known;
  const make = (es: readonly Entity[]): NamedPortSet => {
    const v4 = new Set<string>();
    const v6 = new Set<string>();
    for (const e of es) {
      for (const port of e.ports) {
        if (!names.includes(port.name) || port.protocol !== protocol) continue;
        // Felix's named-port IP sets hold endpoint addresses (host prefixes only).
        for (const a of e.addrs.v4) if (a.endsWith('/32')) v4.add(`${a.slice(0, -3)} . ${port.port}`);
        for (const a of e.addrs.v6) if (a.endsWith('/128')) v6.add(`${a.slice(0, -4)} . ${port.port}`);
      }
    }
    return { id, text, names: [...names], members: { v4: [...v4].sort(), v6: [...v6].sort() } };
  };
  const set = ctx.keep ? ctx.keep.get(ctx, id, p, make) : make(picked(ctx, p));
  ctx.namedSets.set(id, set);
  return set;
}

/** Fixed-width hex of a prefix's network address: sorts like the address. */
function addrKey(p: string): string {
  return Buffer.from(parseAddress(p.slice(0, p.indexOf('/'))).bytes).toString('hex');
}

/**
 * Sorted, deduplicated, without prefixes that another member covers. Prefixes are nested or
 * disjoint, so after sorting by (address, length) a prefix is covered exactly when the last
 * kept prefix covers it: one pass.
 */
export function minimalCover(prefixes: readonly string[]): string[] {
  const items = [...new Set(prefixes)].map((p) => {
    const pp = parsePrefix(p);
    return { p, key: addrKey(p), len: pp.length, parsed: pp };
  });
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.len - b.len));
  const kept: typeof items = [];
  for (const it of items) {
    const last = kept[kept.length - 1];
    if (last && last.parsed.family === it.parsed.family && it.len >= last.len && covers(last.parsed.bytes, last.len, it.parsed.bytes)) continue;
    kept.push(it);
  }
  return kept.map((k) => k.p).sort();
}

function covers(outer: Uint8Array, len: number, inner: Uint8Array): boolean {
  const full = len >> 3;
  for (let i = 0; i < full; i++) if (outer[i] !== inner[i]) return false;
  const rest = len & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((inner[full] ?? 0) & mask) === (outer[full] ?? 0);
}
