// policyModel(): the policy kinds of a whole Snapshot as typed values (model/policy.ts),
// parsed on the first call for a snapshot (snapshots are immutable) and, below that, once per
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

function each<R extends object, T>(items: ReadonlyMap<string, R>, parse: (r: R, key: string) => T): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, r] of items) out.set(k, once(r, k, parse));
  return out;
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
