// Family ↔ (AFI, SAFI) for the unicast families tern carries (RFC 4760 §5, IANA registries).
import { Afi, Safi } from './constants.js';
import type { Family } from '../../net/prefix.js';

export function familyToAfiSafi(f: Family): { afi: number; safi: number } {
  return f === 'ipv4' ? { afi: Afi.Ipv4, safi: Safi.Unicast } : { afi: Afi.Ipv6, safi: Safi.Unicast };
}

export function afiSafiToFamily(afi: number, safi: number): Family | null {
  if (safi !== Safi.Unicast) return null;
  if (afi === Afi.Ipv4) return 'ipv4';
  if (afi === Afi.Ipv6) return 'ipv6';
  return null;
}
