// policyModel(): the policy kinds of a whole Snapshot as typed values (model/policy.ts),
// each value parsed when first read (snapshots are immutable) and, below that, once per
// resource object: the file datastore hands unchanged resources over as the same sealed
// objects, so a reload parses only what changed.
import { parseGlobalNetworkSet, parseHostEndpoint, parseNetworkSet, parseWorkloadEndpoint } from './parse-endpoints.js';
import { parseGlobalNetworkPolicy, parseNetworkPolicy, parseProfile, parseTier } from './parse-policy.js';
import type { PolicyModel } from './policy.js';
import type { Snapshot } from './types.js';

/** Typed values by resource object, with the key they were parsed under. */
const parsed = new WeakMap<object, { readonly key: string; readonly value: unknown }>();

function once<R extends object, T>(r: R, key: string, parse: (r: R, key: string) => T): T {
  const known = parsed.get(r);
  if (known && known.key === key) return known.value as T;
  const value = parse(r, key);
  parsed.set(r, { key, value });
  return value;
}

/**
 * A kind's typed values, each parsed when first read: the ACL compiler reads them one by one
 * inside its time-sliced steps, so a snapshot of a thousand new policies is parsed in those
 * slices, not in one synchronous pass before them.
 */
class LazyMap<R extends object, T> implements ReadonlyMap<string, T> {
  constructor(private readonly items: ReadonlyMap<string, R>, private readonly parse: (r: R, key: string) => T) {}
  get size(): number { return this.items.size; }
  has(key: string): boolean { return this.items.has(key); }
  get(key: string): T | undefined {
    const r = this.items.get(key);
    return r === undefined ? undefined : once(r, key, this.parse);
  }
  *entries(): MapIterator<[string, T]> {
    for (const [k, r] of this.items) yield [k, once(r, k, this.parse)];
  }
  keys(): MapIterator<string> { return this.items.keys(); }
  *values(): MapIterator<T> {
    for (const [k, r] of this.items) yield once(r, k, this.parse);
  }
  forEach(fn: (value: T, key: string, map: ReadonlyMap<string, T>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
  [Symbol.iterator](): MapIterator<[string, T]> { return this.entries(); }
}

function each<R extends object, T>(items: ReadonlyMap<string, R>, parse: (r: R, key: string) => T): ReadonlyMap<string, T> {
  return new LazyMap(items, parse);
}

const models = new WeakMap<Snapshot, PolicyModel>();

/** Every policy kind of `s` as typed values, keyed as the Snapshot keys them. */
export function policyModel(s: Snapshot): PolicyModel {
  let m = models.get(s);
  if (m) return m;
  m = {
    globalNetworkPolicies: each(s.globalNetworkPolicies, (r, k) => ({ ...parseGlobalNetworkPolicy(r), key: k })),
    networkPolicies: each(s.networkPolicies, parseNetworkPolicy),
    profiles: each(s.profiles, (r, k) => ({ ...parseProfile(r), key: k })),
    tiers: each(s.tiers, (r, k) => ({ ...parseTier(r), name: k })),
    workloadEndpoints: each(s.workloadEndpoints, parseWorkloadEndpoint),
    hostEndpoints: each(s.hostEndpoints, parseHostEndpoint),
    networkSets: each(s.networkSets, parseNetworkSet),
    globalNetworkSets: each(s.globalNetworkSets, parseGlobalNetworkSet),
  };
  models.set(s, m);
  return m;
}
