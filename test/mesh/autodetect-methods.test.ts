// IP_AUTODETECTION_METHOD parsing and the table-based methods, as calico-node runs them.
import type { NetworkInterfaceInfo } from 'node:os';
import t from 'tap';
import { detectAddress, detectFromTable, parseAutodetectMethod, withLocalPrefix } from '../../src/mesh/autodetect-methods.js';
import type { InterfaceTable } from '../../src/mesh/index.js';
import { resolveNodeAddress } from '../../src/mesh/node-address.js';

const v4 = (address: string, len: number): NetworkInterfaceInfo => ({ address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${len}` });
const v6 = (address: string, len: number): NetworkInterfaceInfo => ({ address, netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${len}`, scopeid: 0 });

const table: InterfaceTable = {
  lo: [v4('127.0.0.1', 8)],
  eth0: [v4('10.0.0.11', 24), v6('fd00:a::11', 64)],
  eth1: [v4('192.168.5.5', 24), v6('fd00:b::5', 64)],
  docker0: [v4('172.17.0.1', 16)],
};
const pick = (method: string, family: 'ipv4' | 'ipv6' = 'ipv4') => {
  const m = parseAutodetectMethod(method, family, 'IP_AUTODETECTION_METHOD');
  if (m.kind === 'can-reach') throw new Error('not table-based');
  return detectFromTable(table, family, m)?.cidr;
};

t.test('first-found (and empty): the last usable interface, defaults excluded', async (t) => {
  t.equal(pick(''), '192.168.5.5/24');
  t.equal(pick('first-found'), '192.168.5.5/24');
});

t.test('interface=: only matching names, unanchored, comma separated; no default exclusions', async (t) => {
  t.equal(pick('interface=eth0'), '10.0.0.11/24');
  t.equal(pick('interface=th0'), '10.0.0.11/24', 'unanchored as in Go');
  t.equal(pick('interface=eth0, docker.*'), '172.17.0.1/16', 'docker0 is not excluded here (and comes last)');
  t.equal(pick('interface=eth0', 'ipv6'), 'fd00:a::11/64');
  t.equal(pick('interface=nope'), undefined);
});

t.test('skip-interface=: default exclusions plus these', async (t) => {
  t.equal(pick('skip-interface=eth1'), '10.0.0.11/24');
  t.equal(pick('skip-interface=eth.*'), undefined);
});

t.test('cidr=: an address inside one of the CIDRs, on any interface', async (t) => {
  t.equal(pick('cidr=10.0.0.0/8'), '10.0.0.11/24');
  t.equal(pick('cidr=192.168.0.0/16,10.0.0.0/8'), '192.168.5.5/24', 'interface order decides, not CIDR order');
  t.equal(pick('cidr=172.16.0.0/12'), '172.17.0.1/16');
  t.equal(pick('cidr=fd00:a::/48', 'ipv6'), 'fd00:a::11/64');
});

t.test('bad methods are refused with the variable named', async (t) => {
  t.throws(() => parseAutodetectMethod('kubernetes-internal-ip', 'ipv4', 'IP_AUTODETECTION_METHOD'), /IP_AUTODETECTION_METHOD="kubernetes-internal-ip": needs the Kubernetes API/);
  t.throws(() => parseAutodetectMethod('bogus', 'ipv4', 'IP_AUTODETECTION_METHOD'), /unknown method/);
  t.throws(() => parseAutodetectMethod('cidr=10.0.0.0/33', 'ipv4', 'IP_AUTODETECTION_METHOD'), /invalid CIDR/);
  t.throws(() => parseAutodetectMethod('interface=(', 'ipv4', 'IP_AUTODETECTION_METHOD'), /invalid interface pattern/);
  t.throws(() => parseAutodetectMethod('can-reach=fd00::1', 'ipv4', 'IP_AUTODETECTION_METHOD'), /not an IPv4 address/);
});

t.test('can-reach= takes the kernel source address toward the destination (loopback here)', async (t) => {
  const lo: InterfaceTable = { lo: [v4('127.0.0.1', 8)] };
  t.same(await detectAddress('ipv4', parseAutodetectMethod('can-reach=127.0.0.1', 'ipv4', 'X'), lo), { interface: 'lo', address: '127.0.0.1', prefixLength: 8, cidr: '127.0.0.1/8' });
});

t.test('a literal address takes its interface prefix; autodetect keeps a stored address when IP is unset', async (t) => {
  t.equal(withLocalPrefix(table, '192.168.5.5')?.cidr, '192.168.5.5/24');
  const warn: string[] = [];
  const w = (m: string) => void warn.push(m);
  t.equal(await resolveNodeAddress('ipv4', { kind: 'literal', value: '10.0.0.11' }, undefined, w, table), '10.0.0.11/24');
  t.equal(await resolveNodeAddress('ipv4', { kind: 'literal', value: '10.9.9.9' }, undefined, w, table), '10.9.9.9/32');
  const ff = parseAutodetectMethod('', 'ipv4', 'X');
  t.equal(await resolveNodeAddress('ipv4', { kind: 'autodetect', method: ff, always: false }, '10.0.0.11/24', w, table), '10.0.0.11/24', 'IP unset: stored kept');
  t.equal(await resolveNodeAddress('ipv4', { kind: 'autodetect', method: ff, always: true }, '10.0.0.11/24', w, table), '192.168.5.5/24', 'IP=autodetect: re-detected');
  const none = parseAutodetectMethod('interface=nope', 'ipv4', 'X');
  t.equal(await resolveNodeAddress('ipv4', { kind: 'autodetect', method: none, always: true }, '10.0.0.11/24', w, table), '10.0.0.11/24', 'failed detection keeps the stored one');
  t.match(warn[0], /found no IPv4 address; keeping the stored 10\.0\.0\.11\/24/);
  t.equal(await resolveNodeAddress('ipv6', { kind: 'none' }, undefined, w, table), undefined, 'none: family off');
});
