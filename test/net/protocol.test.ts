// The policy protocol grammar: Calico's names (as written, or all lower case) and numbers
// 1..255; each refusal with its reason. Text a person types is lower-cased before parsing.
import t from 'tap';
import { parseProtocol, protocolName, userProtocolText, PROTOCOLS } from '../../src/net/protocol.js';
import { parseFlow } from '../../src/acl/explain.js';

t.test("Calico's spellings and numbers", async (t) => {
  for (const [name, n] of [['TCP', 6], ['UDP', 17], ['ICMP', 1], ['ICMPv6', 58], ['SCTP', 132], ['UDPLite', 136]] as const) {
    t.equal(parseProtocol(name), n, name);
    t.equal(parseProtocol(name.toLowerCase()), n, name.toLowerCase());
  }
  t.equal(parseProtocol(1), 1);
  t.equal(parseProtocol(255), 255);
  t.equal(parseProtocol('47'), 47);
});

t.test('refusals name the reason', async (t) => {
  t.throws(() => parseProtocol(0), { message: 'must be an integer 1..255, got 0' });
  t.throws(() => parseProtocol(256), { message: 'must be an integer 1..255, got 256' });
  t.throws(() => parseProtocol('256'), { message: 'must be an integer 1..255, got 256' });
  t.throws(() => parseProtocol(6.5), { message: 'must be an integer 1..255, got 6.5' });
  // Mixed case is not one of Calico's spellings: a resource saying "Tcp" is refused.
  t.throws(() => parseProtocol('Tcp'), { message: 'must be TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1..255, got "Tcp"' });
  t.throws(() => parseProtocol('ICMPV6'), { message: /got "ICMPV6"/ });
  t.throws(() => parseProtocol('gre'), { message: /got "gre"/ });
  t.throws(() => parseProtocol(null), { message: /got null/ });
  t.throws(() => parseProtocol({}), { message: /got an object/ });
});

t.test('user text is normalised explicitly, then parsed by the same grammar', async (t) => {
  t.equal(userProtocolText('Tcp'), 'tcp');
  t.equal(parseProtocol(userProtocolText('ICMPV6')), PROTOCOLS.icmpv6);
  t.equal(parseFlow('Tcp/5432').protocol, PROTOCOLS.tcp);
  t.equal(parseFlow('UDPLITE').protocol, PROTOCOLS.udplite);
  t.throws(() => parseFlow('gre/1'), { code: 'ERR_ACL_FLOW' });
});

t.test('names', async (t) => {
  t.equal(protocolName(6), 'tcp');
  t.equal(protocolName(58), 'icmpv6');
  t.equal(protocolName(47), '47');
});
