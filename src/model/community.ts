// The BGP community text grammar of Calico's resources (BGPConfiguration communities and
// prefixAdvertisements, BGPFilter communities and addCommunity): "aa:nn", a standard community
// (RFC 1997, two 16-bit numbers), or "aa:nn:mm", a large one (RFC 8092, three 32-bit numbers).

/** The canonical text of a community value (numbers without leading zeros), or undefined. */
export function communityValue(text: string): string | undefined {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => /^\d{1,10}$/.test(p))) return undefined;
  const max = parts.length === 2 ? 0xffff : 0xffffffff;
  const nums = parts.map(Number);
  return nums.every((n) => n <= max) ? nums.join(':') : undefined;
}
