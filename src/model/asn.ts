// AS numbers: 4-octet (RFC 6793), 1..4294967295; 0 is reserved (RFC 7607).
import { ConfigError } from '../util/errors.js';
export const MAX_AS = 0xffffffff;

/** Calico's default AS when neither the Node nor BGPConfiguration "default" sets one. */
export const DEFAULT_AS = 64512;

export function isValidAs(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_AS;
}

/** calico-node's ASNumberFromString: plain ("64512") or dotted ("1.10" = 1·65536+10). */
export function parseAsNumber(text: string, variable = 'AS'): number {
  const t = text.trim();
  const dotted = /^(\d+)\.(\d+)$/.exec(t);
  const n = dotted ? Number(dotted[1]) * 65536 + Number(dotted[2]) : /^\d+$/.test(t) ? Number(t) : NaN;
  const ok = Number.isInteger(n) && n >= 1 && n <= MAX_AS && (!dotted || (Number(dotted[1]) <= 65535 && Number(dotted[2]) <= 65535));
  if (!ok) throw new ConfigError(`${variable}=${JSON.stringify(t)}: not an AS number (1–4294967295, or dotted A.B)`, { field: variable, reason: 'bad AS number' });
  return n;
}
