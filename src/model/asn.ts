// AS numbers: 4-octet (RFC 6793), 1..4294967295; 0 is reserved (RFC 7607).
export const MAX_AS = 0xffffffff;

/** Calico's default AS when neither the Node nor BGPConfiguration "default" sets one. */
export const DEFAULT_AS = 64512;

export function isValidAs(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_AS;
}
