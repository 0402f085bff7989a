// AS numbers: 4-octet (RFC 6793), 1..4294967295; 0 is reserved (RFC 7607).
import { ConfigError } from '../util/errors.js';
export const MAX_AS = 0xffffffff;

/** Calico's default AS when neither the Node nor BGPConfiguration "default" sets one. */
export const DEFAULT_AS = 64512;

export function isValidAs(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_AS;
}

/**
 * The AS number text grammar (calico-node's ASNumberFromString): plain ("64512") or asdot
 * ("1.10" = 1·65536+10, RFC 5396); undefined when the text is neither or out of range.
 */
export function asNumberFromText(t: string): number | undefined {
  const dotted = /^(\d+)\.(\d+)$/.exec(t);
  if (dotted) {
    const hi = Number(dotted[1]);
    const lo = Number(dotted[2]);
    return hi <= 65535 && lo <= 65535 && isValidAs(hi * 65536 + lo) ? hi * 65536 + lo : undefined;
  }
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  return isValidAs(n) ? n : undefined;
}

/** An AS number setting (the AS variable); throws ConfigError naming `variable`. */
export function parseAsNumber(text: string, variable = 'AS'): number {
  const t = text.trim();
  const n = asNumberFromText(t);
  if (n === undefined) throw new ConfigError(`${variable}=${JSON.stringify(t)}: not an AS number (1–4294967295, or dotted A.B)`, { field: variable, reason: 'bad AS number' });
  return n;
}
