// An IP protocol as a Calico policy names it (numorstring.Protocol): one of Calico's spellings
// (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or the same in lower case) or a number 1..255, as a
// number or as digits. The one parser of this grammar: validation (src/datastore) and the ACL
// compiler (src/acl) both use it. Text a person types (`tern acl explain`) is lower-cased by
// its caller first (`userProtocolText`), so resources are judged by this grammar alone.

/** Protocol numbers (IANA) by tern's canonical (lower-case) name. */
export const PROTOCOLS = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132, udplite: 136 } as const;

const CALICO_NAMES: ReadonlyMap<string, number> = new Map([
  ['TCP', 6], ['UDP', 17], ['ICMP', 1], ['ICMPv6', 58], ['SCTP', 132], ['UDPLite', 136],
  ...Object.entries(PROTOCOLS),
]);
const NAMES = new Map<number, string>(Object.entries(PROTOCOLS).map(([k, v]) => [v, k]));

/** Parses one protocol to its number; throws Error whose message is the reason. */
export function parseProtocol(v: unknown): number {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 255) throw new Error(`must be an integer 1..255, got ${n}`);
    return n;
  }
  const n = typeof v === 'string' ? CALICO_NAMES.get(v) : undefined;
  if (n === undefined) {
    const got = v === undefined ? 'nothing' : v === null ? 'null' : typeof v === 'object' ? 'an object' : JSON.stringify(v);
    throw new Error(`must be TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1..255, got ${got}`);
  }
  return n;
}

/** A protocol typed by a person, in any case ("TCP", "Tcp", "icmpV6"), put into the grammar's lower-case spelling. */
export function userProtocolText(text: string): string {
  return text.toLowerCase();
}

/** The canonical name of a protocol number ("tcp"), or its digits when it has none. */
export function protocolName(n: number): string {
  return NAMES.get(n) ?? String(n);
}
