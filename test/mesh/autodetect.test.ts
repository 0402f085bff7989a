// First-found address autodetection over fake interface tables, and node registration.
import type { NetworkInterfaceInfo } from 'node:os';
import t from 'tap';
import { firstFound, nodeRegistration, registerNode, type InterfaceTable } from '../../src/mesh/index.js';
import { node, snapshot } from './fixtures/snapshot.js';

function v4(address: string, cidrLen: number, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/${cidrLen}` };
}
function v6(address: string, cidrLen: number, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal, cidr: `${address}/${cidrLen}`, scopeid: 0 };
}

const table: InterfaceTable = {
  lo: [v4('127.0.0.1', 8, true), v6('::1', 128, true)],
  docker0: [v4('172.17.0.1', 16)],
  cali1234abcd: [v4('169.254.1.1', 32)],
  tunl0: [v4('10.244.1.0', 32)],
  'vxlan.calico': [v4('10.244.1.1', 32)],
  'kube-ipvs0': [v4('10.96.0.1', 32)],
  veth12: [v4('192.168.99.1', 24)],
  eth0: [v6('fe80::1', 64), v4('10.0.0.11', 24), v6('2001:db8::11', 64)],
  eth1: [v4('192.168.5.5', 24)],
};

t.test('first-found skips excluded interfaces, loopback and link-local', async (t) => {
  // Interfaces are scanned from the last one, as calico-node's GetInterfaces does.
  t.same(firstFound(table, 'ipv4'), { interface: 'eth1', address: '192.168.5.5', prefixLength: 24, cidr: '192.168.5.5/24' });
  t.same(firstFound(table, 'ipv6'), { interface: 'eth0', address: '2001:db8::11', prefixLength: 64, cidr: '2001:db8::11/64' });
  t.same(firstFound({ ...table, eth1: [] }, 'ipv4'), { interface: 'eth0', address: '10.0.0.11', prefixLength: 24, cidr: '10.0.0.11/24' });
});

t.test('reverse table order decides; extra exclusions apply', async (t) => {
  const order: InterfaceTable = { ens4: [v4('10.1.0.4', 20)], eth0: [v4('10.0.0.11', 24)] };
  t.equal(firstFound(order, 'ipv4')?.interface, 'eth0');
  t.equal(firstFound(order, 'ipv4', [/^eth/])?.interface, 'ens4');
  // calico-node's default exclusions, exactly: podman and nodelocaldns too; a vxlan device
  // that is not Calico's is not excluded.
  t.equal(firstFound({ eth0: [v4('10.0.0.11', 24)], podman0: [v4('10.88.0.1', 16)], nodelocaldns: [v4('169.254.20.10', 32)] }, 'ipv4')?.interface, 'eth0');
  t.equal(firstFound({ eth0: [v4('10.0.0.11', 24)], vxlan100: [v4('10.9.0.1', 24)] }, 'ipv4')?.interface, 'vxlan100');
  t.equal(firstFound({ eth0: [v4('10.0.0.11', 24)], 'vxlan.calico': [v4('10.9.0.1', 32)] }, 'ipv4')?.interface, 'eth0');
});

t.test('nothing global: undefined', async (t) => {
  t.equal(firstFound({ lo: table.lo, eth0: [v6('fe80::1', 64), v4('169.254.3.3', 16)] }, 'ipv4'), undefined);
  t.equal(firstFound({ eth0: [v6('fe80::1', 64)] }, 'ipv6'), undefined);
  t.equal(firstFound({}, 'ipv4'), undefined);
});

t.test('registration: new node', async (t) => {
  t.same(nodeRegistration(snapshot([]), 'a', { ipv4: '10.0.0.11/24' }), {
    apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'a' }, spec: { bgp: { ipv4Address: '10.0.0.11/24' } },
  });
});

t.test('registration: update keeps labels and other fields; unchanged gives null', async (t) => {
  const existing = node('a', { ipv4Address: '10.0.0.11/24', asNumber: 65001, routeReflectorClusterID: '244.0.0.1' }, { rack: 'r1' });
  const withMeta = { ...existing, metadata: { ...existing.metadata, resourceVersion: '42', annotations: { x: 'y' } },
    spec: { ...existing.spec, orchRefs: [{ nodeName: 'a', orchestrator: 'k8s' }] } };
  const snap = snapshot([withMeta]);
  t.equal(nodeRegistration(snap, 'a', { ipv4: '10.0.0.11/24' }), null);
  t.equal(nodeRegistration(snap, 'a', {}), null);
  t.same(nodeRegistration(snap, 'a', { ipv4: '10.0.0.99/24', ipv6: 'fd00::99/64' }), {
    apiVersion: 'projectcalico.org/v3', kind: 'Node',
    metadata: { name: 'a', labels: { rack: 'r1' }, resourceVersion: '42', annotations: { x: 'y' } },
    spec: {
      bgp: { ipv4Address: '10.0.0.99/24', ipv6Address: 'fd00::99/64', asNumber: 65001, routeReflectorClusterID: '244.0.0.1' },
      orchRefs: [{ nodeName: 'a', orchestrator: 'k8s' }],
    },
  });
  const removed = nodeRegistration(snapshot([node('a', { ipv4Address: '10.0.0.11/24', ipv6Address: 'fd00::1/64' })]), 'a', { ipv6: null });
  t.same(removed?.spec.bgp, { ipv4Address: '10.0.0.11/24' });
});

t.test('registerNode applies only when something changes', async (t) => {
  const applied: unknown[] = [];
  const apply = async (rs: unknown[]) => { applied.push(...rs); };
  const snap = snapshot([node('a', { ipv4Address: '10.0.0.11/24' })]);
  t.equal(await registerNode(apply, snap, 'a', { ipv4: '10.0.0.11/24' }), null);
  t.equal(applied.length, 0);
  const r = await registerNode(apply, snap, 'a', { ipv4: '10.0.0.12/24' });
  t.equal(r?.spec.bgp?.ipv4Address, '10.0.0.12/24');
  t.same(applied, [r]);
});
