// End-of-RIB is exactly RFC 4724 §2: an UPDATE empty on the wire (IPv4 unicast), or one whose
// only attribute is an MP_UNREACH_NLRI without withdrawn routes (its family). Attributes that
// were discarded or ignored on decode do not make an UPDATE empty.
import t from 'tap';
import { decodeMessage, isEndOfRib, type DecodeOptions, type UpdateMessage } from '../../../src/bgp/wire/index.js';
import { hex, update } from './helpers.js';

const FOUR: DecodeOptions = { fourOctetAs: true };
const EBGP: DecodeOptions = { fourOctetAs: true, ebgp: true };

const eor = (attrs: string, opts = FOUR) => isEndOfRib(decodeMessage(update({ attrs: hex(attrs) }), opts) as UpdateMessage);

t.test('the two markers', async (t) => {
  t.equal(eor(''), 'ipv4', 'empty UPDATE');
  t.equal(eor('80 0f 03 0002 01'), 'ipv6', 'MP_UNREACH IPv6 unicast, no withdrawn routes');
  t.equal(eor('80 0f 03 0001 01'), 'ipv4', 'MP_UNREACH IPv4 unicast, no withdrawn routes');
});

t.test('not End-of-RIB', async (t) => {
  t.equal(eor('80 0f 0c 0002 01 40 fd00000100000000'), null, 'MP_UNREACH with a withdrawn route');
  t.equal(eor('40 06 01 00'), null, 'only a malformed ATOMIC_AGGREGATE (discarded)');
  t.equal(eor('80 63 01 00'), null, 'only an unknown optional non-transitive attribute');
  t.equal(eor('40 05 04 00000064', EBGP), null, 'only LOCAL_PREF from eBGP (ignored)');
  t.equal(eor('80 0f 03 0019 41'), null, 'MP_UNREACH of an AFI/SAFI tern does not know (L2VPN EVPN)');
  t.equal(eor('80 0f 03 0002 80'), null, 'MP_UNREACH of IPv6 L3VPN');
  t.equal(eor('c0 11 06 02 01 0000fde9'), null, 'only AS4_PATH between NEW speakers (ignored)');
  t.equal(eor('40 01 01 00'), null, 'attributes without NLRI');
  t.equal(eor('c0 63 01 00'), null, 'only an unknown transitive attribute');
});
