// calico-node's node identity in a namespace with two interfaces: eth0 10.210.0.5/24 and
// eth1 10.220.0.5/24 (plus IPv6 on eth1). Each case starts `tern daemon` with calico-node's
// environment on its own file datastore and reads back the router id (tern status) and the
// Node resource tern registered (tern get node).
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { startTern } from '../helpers/tern.js';
import { hashRouterId } from '../../src/peering/derive.js';

const lab = createLab(t, { area: 'nodeid' });
const BASE = calico.bgpConfiguration({ asNumber: 64512 });
let seq = 0;

t.before(async () => {
  await segment(lab, 'lan-a', { h: { v4: '10.210.0.5/24', ifName: 'eth0' } });
  await segment(lab, 'lan-b', { h: { v4: '10.220.0.5/24', v6: 'fd00:220::5/64', ifName: 'eth1' } });
});

async function run(env: Record<string, string>): Promise<{ routerId: string; asNumber: number; bgp: Record<string, unknown> }> {
  const name = `id-${++seq}`;
  const ds = fileDatastore(lab, [BASE], `id-${seq}.yaml`).spec;
  const h = await startTern(lab, 'h', { datastore: ds, node: name, env, extraArgs: ['--no-fib'] });
  try {
    const st = await h.status();
    const nodeJson = JSON.parse(await h.cli('get', 'node', name, '-o', 'json', '--datastore', ds)) as { spec: { bgp: Record<string, unknown> } };
    return { routerId: st.daemon.routerId, asNumber: st.daemon.asNumber, bgp: nodeJson.spec.bgp };
  } finally {
    await h.stop();
  }
}

t.test('IP_AUTODETECTION_METHOD=cidr= picks the address inside the CIDR', async (t) => {
  const r = await run({ IP_AUTODETECTION_METHOD: 'cidr=10.210.0.0/16' });
  t.equal(r.routerId, '10.210.0.5');
  t.equal(r.bgp.ipv4Address, '10.210.0.5/24', 'registered with its interface prefix');
  t.equal((await run({ IP_AUTODETECTION_METHOD: 'cidr=10.220.0.0/16' })).routerId, '10.220.0.5');
});

t.test('IP_AUTODETECTION_METHOD=interface= and skip-interface= pick by interface name', async (t) => {
  t.equal((await run({ IP_AUTODETECTION_METHOD: 'interface=eth0' })).routerId, '10.210.0.5');
  t.equal((await run({ IP_AUTODETECTION_METHOD: 'interface=eth1' })).routerId, '10.220.0.5');
  t.equal((await run({ IP_AUTODETECTION_METHOD: 'skip-interface=eth1' })).routerId, '10.210.0.5');
});

t.test('first-found takes the last interface, as calico-node; can-reach= the route\'s source', async (t) => {
  t.equal((await run({})).routerId, '10.220.0.5');
  t.equal((await run({ IP_AUTODETECTION_METHOD: 'can-reach=10.210.0.1' })).routerId, '10.210.0.5');
});

t.test('IP literal without a length, AS and CALICO_ROUTER_ID', async (t) => {
  const r = await run({ IP: '10.210.0.5', AS: '65010', CALICO_ROUTER_ID: '10.99.0.1' });
  t.equal(r.bgp.ipv4Address, '10.210.0.5/24', 'the length comes from eth0');
  t.equal(r.bgp.asNumber, 65010, 'AS stored on the Node');
  t.equal(r.asNumber, 65010, 'and used');
  t.equal(r.routerId, '10.99.0.1');
});

t.test('an IPv6-only node: IP=none, IP6=autodetect, CALICO_ROUTER_ID=hash', async (t) => {
  const name = `id-${seq + 1}`;
  const r = await run({ IP: 'none', IP6: 'autodetect', IP6_AUTODETECTION_METHOD: 'interface=eth1', CALICO_ROUTER_ID: 'hash' });
  t.equal(r.bgp.ipv6Address, 'fd00:220::5/64');
  t.notOk(r.bgp.ipv4Address, 'no IPv4 address registered');
  t.equal(r.routerId, hashRouterId(name), 'router id hashed from the node name');
});
