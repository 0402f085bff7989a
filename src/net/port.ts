// A port of a policy rule's `ports`/`notPorts` (Calico's numorstring.Port): a number 0..65535,
// an "a:b" range with a <= b, or a port name (IANA service-name style, as Kubernetes
// container ports: letters, digits and inner hyphens, at most 15 characters). The one parser
// of this grammar: validation (src/datastore) and the ACL compiler (src/acl) both use it.

export type PolicyPort = { readonly from: number; readonly to: number } | { readonly name: string };

const NAMED_PORT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

/** Parses one port; throws Error whose message is the reason (quoting the text where it has one). */
export function parsePolicyPort(v: unknown): PolicyPort {
  const outOfRange = (): never => {
    throw new Error(`must be an integer 0..65535, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  };
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 65535) outOfRange();
    return { from: v, to: v };
  }
  if (typeof v !== 'string') throw new Error(`must be a port number, "a:b" range or port name, got ${v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v)}`);
  const range = /^(\d+):(\d+)$/.exec(v);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (from > 65535 || to > 65535) throw new Error(`"${v}": ports must be 0..65535`);
    if (from > to) throw new Error(`"${v}": range start is greater than its end`);
    return { from, to };
  }
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n > 65535) throw new Error(`must be an integer 0..65535, got ${n}`);
    return { from: n, to: n };
  }
  if (!NAMED_PORT.test(v) || v.length > 15) throw new Error(`"${v}" is not a port number, "a:b" range or port name`);
  return { name: v };
}
