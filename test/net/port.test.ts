// The policy port grammar: numbers, "a:b" ranges, port names; each refusal with its reason.
import t from 'tap';
import { parsePolicyPort } from '../../src/net/port.js';

t.test('numbers, ranges and names', async (t) => {
  t.same(parsePolicyPort(0), { from: 0, to: 0 });
  t.same(parsePolicyPort(65535), { from: 65535, to: 65535 });
  t.same(parsePolicyPort('179'), { from: 179, to: 179 });
  t.same(parsePolicyPort('1000:2000'), { from: 1000, to: 2000 });
  t.same(parsePolicyPort('http-alt'), { name: 'http-alt' });
});

t.test('refusals name the reason', async (t) => {
  t.throws(() => parsePolicyPort(65536), { message: 'must be an integer 0..65535, got 65536' });
  t.throws(() => parsePolicyPort(1.5), { message: 'must be an integer 0..65535, got 1.5' });
  t.throws(() => parsePolicyPort('70000'), { message: 'must be an integer 0..65535, got 70000' });
  t.throws(() => parsePolicyPort('2000:1000'), { message: '"2000:1000": range start is greater than its end' });
  t.throws(() => parsePolicyPort('1:70000'), { message: '"1:70000": ports must be 0..65535' });
  t.throws(() => parsePolicyPort('-http'), { message: '"-http" is not a port number, "a:b" range or port name' });
  t.throws(() => parsePolicyPort('a-very-long-port-name'), { message: /is not a port number/ });
  t.throws(() => parsePolicyPort(true), { message: 'must be a port number, "a:b" range or port name, got true' });
});
