// tern BGP wire codec: Buffer in, typed message out, and back. Pure: no sockets, timers,
// logging or configuration; imports only node:buffer, its own files and src/net/prefix.
//
// Layout
//   framer.ts            TCP chunks → whole messages; header checked before the body
//   header.ts            the 19-octet header, per-type length rules
//   message.ts           decodeMessage / encodeMessage dispatch
//   open.ts, capabilities.ts, update.ts, notification.ts (+ KEEPALIVE, ROUTE-REFRESH)
//   attrs/registry.ts    table of path attribute codecs, one file per attribute group, each
//                        declaring its RFC 7606 error action
//   nlri.ts              prefix text ↔ octets (hot path, hand-written)
//   pack.ts              Adj-RIB-Out packers: packUpdates, packWithdrawals / packWithdrawn, End-of-RIB
//   describe.ts          NOTIFICATION code/subcode → text
//
// Invariants
// - Only BgpWireError is ever thrown (code, subcode, data, action). `reset` errors are
//   thrown; weaker UPDATE outcomes (attribute discard, treat-as-withdraw) come back in
//   UpdateMessage.errors / .treatAsWithdraw, with the malformed attributes removed.
// - Decoded prefixes and addresses are canonical text (src/net/prefix.ts); host bits of
//   received prefixes are masked.
// - Decoded messages never retain views of the frame: kept octets are copied.
// - `asPath` / `aggregator` are always the 4-octet view; AS4_PATH / AS4_AGGREGATOR exist
//   only on the wire (RFC 6793).
// - Frames returned by Framer may be views of the pushed chunk; never of Framer's buffer.
// - A decoded OPEN's capability list is deeply frozen and shared by every OPEN with the same
//   optional-parameter octets (open.ts, a bounded memo), unless it holds an unknown capability.
//
// Decisions worth knowing
// - Malformed AS4_PATH / AS4_AGGREGATOR → attribute discard (RFC 6793 §6); both are ignored
//   between 4-octet speakers.
// - LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST from eBGP are dropped silently (RFC 7606 §7.5,
//   §7.9, §7.10); AS_CONFED segments from eBGP make AS_PATH malformed (§7.2).
// - MP_REACH / MP_UNREACH for AFI/SAFI other than IPv4/IPv6 unicast are skipped; malformed
//   ones reset (tern's choice among the RFC 7606 §7.11 options).
// - A ROUTE-REFRESH longer than 23 octets passes the Framer; decodeRouteRefresh answers 7/1
//   for a BoRR/EoRR (RFC 7313 §5, data = the message) and 1/2 otherwise. Unknown subtypes
//   are returned as decoded; ignoring them (RFC 7313 §5) is the session's job.
// - Malformed optional parameters or capabilities in OPEN → 2/0 (no specific subcode exists).
// - Encoders put MP_UNREACH/MP_REACH first (RFC 7606 §5.1), other attributes in type order.
//
// RFCs: 4271 (BGP-4), 4760 (MP-BGP), 2545 (IPv6 next hops), 5492 (capabilities),
// 9072 (extended optional parameters), 6793 (4-octet AS), 4724 (graceful restart,
// End-of-RIB), 8538 (N bit), 7911 (ADD-PATH), 2918 / 7313 (route refresh), 8654 (extended
// message), 7606 (revised UPDATE error handling), 1997 / 4360 / 8092 (communities),
// 4456 (route reflection attributes), 6286 (BGP identifier).
export * from './constants.js';
export * from './errors.js';
export type * from './types.js';
export { Framer } from './framer.js';
export { checkHeader, forEachMessage, messageLength, messageType, notificationCodes, tallyMessages } from './header.js';
export { decodeMessage, encodeMessage } from './message.js';
export { decodeOpen, encodeOpen } from './open.js';
export { decodeCapability, encodeCapability } from './capabilities.js';
export { decodeUpdate, encodeUpdate } from './update.js';
export { decodeNotification, encodeNotification, decodeKeepalive, encodeKeepalive, decodeRouteRefresh, encodeRouteRefresh } from './notification.js';
export { encodePathAttributes, ATTRIBUTES } from './attrs/registry.js';
export type { AttrCodec } from './attrs/codec.js';
export { attributesFit, packUpdates, packWithdrawals, packWithdrawn, endOfRib, isEndOfRib } from './pack.js';
export { familyToAfiSafi, afiSafiToFamily } from './family.js';
export { describeNotification } from './describe.js';
