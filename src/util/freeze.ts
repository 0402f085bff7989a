// deepFreeze: makes a plain value and everything reachable from it read-only, so one value can
// be shared (snapshots, OPEN messages, decoded capability lists). The object is frozen before
// its children, so a cycle ends. An ArrayBuffer view with elements cannot be frozen (the
// engine throws): callers keep such values out of what they share.
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as Record<string, unknown>)) deepFreeze(child);
  }
  return v;
}
