// Incremental model state (Felix's calculation graph, in small): what one model build leaves
// for the next, so that a change costs what it touches instead of the whole snapshot. The
// companion keeps one AclCache; buildModel without a cache (explain, tests) computes all.
//
// Indexes and memos
// - entities: an Entity is kept while its resource (labels, namespace, spec) is structurally
//   equal (sameData, no JSON); object identity therefore means "unchanged" downstream.
// - sets (set → members): each member or named-port set keeps the keys of the entities it
//   picks. A build evaluates only the changed entities against each kept set, and rebuilds a
//   set (a new object) only when a changed entity was or is a member.
// - policies (policy → sets): a compiled policy is kept while its spec is equal and every set
//   its rules name is still the same object.
// - selections (selector → endpoints): whether a policy selection picks an entity is
//   memoised per selection and entity object.
// - plans (endpoint → policies): an endpoint's tier plan is kept while its entity and the
//   ordered list of selecting policies (keys, selections, types, tiers) are unchanged.
//
// Invariant: a model built with a cache equals the one built without (test/acl/incremental).
// Profile labels (labelsToApply, read by every entity and namespaceSelector) changing
// flushes everything: rare, and that build then costs what a first build costs.
import type { AclProblem } from './model.js';
import { pickMatches, type Entity, type EntityCtx, type EntityReuse, type Pick, type SetKeeper } from './entities.js';
import type { MemberSet, NamedPortSet } from './rules.js';

type AnySet = MemberSet | NamedPortSet;

/** Structural equality of plain data (frozen datastore resources); undefined fields count as absent. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (!sameData(x[k], y[k])) return false;
  for (const k in y) if (!(k in x) && y[k] !== undefined) return false;
  return true;
}

interface KeptSet {
  readonly pick: Pick;
  readonly matched: Set<string>;
  readonly make: (picked: readonly Entity[]) => AnySet;
  value: AnySet;
  used: boolean;
}

interface KeptPolicy {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly spec: unknown;
  readonly value: unknown;
  readonly sets: readonly AnySet[];
  readonly problems: readonly AclProblem[];
}

/** Work done by the last build (tests and the bench read it). */
export interface CacheStats {
  entitiesChanged: number;
  setsBuilt: number;
  policiesCompiled: number;
  plansComputed: number;
}

const entityId = (e: Entity): string => `${e.kind}:${e.key}`;

export class AclCache implements SetKeeper {
  private entities = new Map<string, { src: unknown; entity: Entity }>();
  private sets = new Map<string, KeptSet>();
  private policies = new Map<string, KeptPolicy>();
  private selections = new Map<string, WeakMap<Entity, boolean>>();
  private plans = new WeakMap<Entity, unknown>();
  private planKey = '';
  private labels: unknown = undefined;
  private seen = new Set<string>();
  private seenPolicies = new Set<string>();
  private seenSelections = new Set<string>();
  private changed: string[] = [];
  stats: CacheStats = { entitiesChanged: 0, setsBuilt: 0, policiesCompiled: 0, plansComputed: 0 };

  /** Starts a build; `labelInputs` is everything entity and namespace labels derive from besides each resource. */
  begin(labelInputs: unknown): void {
    if (!sameData(labelInputs, this.labels)) {
      this.entities = new Map();
      this.sets = new Map();
      this.policies = new Map();
      this.selections = new Map();
      this.plans = new WeakMap();
      this.planKey = '';
      this.labels = labelInputs;
    }
    this.seen = new Set();
    this.seenPolicies = new Set();
    this.seenSelections = new Set();
    this.changed = [];
    this.stats = { entitiesChanged: 0, setsBuilt: 0, policiesCompiled: 0, plansComputed: 0 };
  }

  readonly reuseEntity: EntityReuse = (kind, key, resource, make) => {
    const id = `${kind}:${key}`;
    this.seen.add(id);
    const r = resource as { metadata?: { labels?: unknown; namespace?: unknown }; spec?: unknown };
    const src = { labels: r.metadata?.labels, namespace: r.metadata?.namespace, spec: r.spec };
    const prev = this.entities.get(id);
    if (prev && sameData(prev.src, src)) return prev.entity;
    const entity = make();
    this.entities.set(id, { src, entity });
    this.changed.push(id);
    return entity;
  };

  /** After entitiesOf: forgets removed entities and brings every kept set up to date (a yield every 64 sets). */
  *entitiesDone(ctx: EntityCtx): Generator<void, void> {
    for (const id of this.entities.keys()) {
      if (this.seen.has(id)) continue;
      this.entities.delete(id);
      this.changed.push(id);
    }
    this.stats.entitiesChanged = this.changed.length;
    if (this.changed.length === 0) return;
    let n = 0;
    for (const kept of this.sets.values()) {
      if ((++n & 63) === 0) yield;
      let dirty = false;
      for (const id of this.changed) {
        const e = this.entities.get(id)?.entity;
        const was = kept.matched.has(id);
        const now = e !== undefined && pickMatches(ctx, kept.pick, e);
        if (now) kept.matched.add(id);
        else kept.matched.delete(id);
        dirty ||= was || now;
      }
      if (dirty) {
        kept.value = kept.make([...kept.matched].map((id) => this.entities.get(id)!.entity));
        this.stats.setsBuilt++;
      }
    }
  }

  get<T extends AnySet>(ctx: EntityCtx, id: string, p: Pick, make: (picked: readonly Entity[]) => T): T {
    const kept = this.sets.get(id);
    if (kept) {
      kept.used = true;
      return kept.value as T;
    }
    const picked = ctx.entities.filter((e) => pickMatches(ctx, p, e));
    const value = make(picked);
    this.sets.set(id, { pick: p, matched: new Set(picked.map(entityId)), make, value, used: true });
    this.stats.setsBuilt++;
    return value;
  }

  /**
   * A compiled policy (or profile): the kept one while its spec is equal and the sets it
   * names are unchanged (they are then registered in this build's ctx), else `compile()`.
   */
  policy<T>(ctx: EntityCtx, key: string, kind: string, namespace: string | undefined, spec: unknown, compile: () => { value: T; problems: readonly AclProblem[] }, setsOf: (v: T) => readonly AnySet[]): { value: T; problems: readonly AclProblem[] } {
    const id = `${kind}:${key}`;
    this.seenPolicies.add(id);
    const kept = this.policies.get(id);
    if (kept && kept.kind === kind && kept.namespace === namespace && sameData(kept.spec, spec) && kept.sets.every((s) => this.sets.get(s.id)?.value === s)) {
      for (const s of kept.sets) {
        this.sets.get(s.id)!.used = true;
        if ('names' in s) ctx.namedSets.set(s.id, s);
        else ctx.sets.set(s.id, s);
      }
      return { value: kept.value as T, problems: kept.problems };
    }
    const r = compile();
    this.policies.set(id, { kind, namespace, spec, value: r.value, sets: setsOf(r.value), problems: r.problems });
    this.stats.policiesCompiled++;
    return r;
  }

  /** Memoised `select(e)` for one selection key. */
  selects(selectionKey: string, e: Entity, select: (e: Entity) => boolean): boolean {
    this.seenSelections.add(selectionKey);
    let m = this.selections.get(selectionKey);
    if (!m) this.selections.set(selectionKey, (m = new WeakMap()));
    let v = m.get(e);
    if (v === undefined) m.set(e, (v = select(e)));
    return v;
  }

  /** Whether `plan` would return a kept plan (without computing it). */
  hasPlan(planKey: string, e: Entity): boolean {
    return planKey === this.planKey && this.plans.has(e);
  }

  /** The plan of an endpoint: kept while `planKey` (the ordered selecting policies) and the entity are unchanged. */
  plan<T>(planKey: string, e: Entity, make: () => T): T {
    if (planKey !== this.planKey) {
      this.plans = new WeakMap();
      this.planKey = planKey;
    }
    let v = this.plans.get(e) as T | undefined;
    if (v === undefined) {
      this.plans.set(e, (v = make()));
      this.stats.plansComputed++;
    }
    return v;
  }

  /** End of a build: drops what it no longer uses. */
  end(): void {
    for (const [id, s] of this.sets) {
      if (!s.used) this.sets.delete(id);
      s.used = false;
    }
    for (const id of this.policies.keys()) if (!this.seenPolicies.has(id)) this.policies.delete(id);
    for (const k of this.selections.keys()) if (!this.seenSelections.has(k)) this.selections.delete(k);
  }
}
