// BGPPeer spec.peerIP: "10.0.0.1", "10.0.0.1:1179", "fd00::1", "[fd00::1]" or
// "[fd00::1]:1179". The one parser of this grammar: validation and derivation both use it.
import { canonicalAddress, familyOf, type Family } from '../net/prefix.js';

export interface PeerIP {
  /** Canonical address (RFC 5952 for IPv6). */
  readonly address: string;
  readonly family: Family;
  /** Only when the text carries one. */
  readonly port?: number;
}

/** Parses a peerIP; throws Error whose message is the reason, quoting the text. */
export function parsePeerIP(text: string): PeerIP {
  const bad = (why: string): never => {
    throw new Error(`"${text}" ${why}`);
  };
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1] ?? '';
    portText = bracket[2];
    if (!host.includes(':')) bad('must use brackets only around an IPv6 address, e.g. "[fd00::1]:179"');
  } else if (text.includes('.') && text.split(':').length === 2) {
    [host, portText] = text.split(':') as [string, string];
  }
  if (host.includes('%')) bad('has an IPv6 zone ("%…"): peerIP takes a plain address, as in Calico');
  let address = '';
  try {
    address = canonicalAddress(host);
  } catch {
    bad('is not "ip", "ip:port" or "[ipv6]:port"');
  }
  const family = familyOf(address);
  if (portText === undefined) return { address, family };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) bad('has a port outside 1..65535');
  return { address, family, port: Number(portText) };
}
