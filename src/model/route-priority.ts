// A route priority as Calico writes it (BGPConfiguration ipv4/ipv6NormalRoutePriority,
// BGPFilter `priority` and `setPriority.value`): an integer 1 .. 2^31−2, in the units of the
// kernel route metric (validators and kubebuilder markers of bgpconfig.go and bgpfilter.go).

export const PRIORITY_MIN = 1;
export const PRIORITY_MAX = 2147483646;

/** The priority, or undefined when `v` is not one. */
export function routePriority(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= PRIORITY_MIN && v <= PRIORITY_MAX ? v : undefined;
}

export const PRIORITY_EXPECTED = `an integer ${PRIORITY_MIN}..${PRIORITY_MAX}`;
