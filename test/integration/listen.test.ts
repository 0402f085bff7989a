// The BGP listener as confd renders `listen bgp`: `bindMode: NodeIP` binds the node's own
// address only, and a `listenPort` change moves the listener without a restart (node-2
// then dials node-1 on the new port, as its mesh session to node-1 now says).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { startTern } from '../helpers/tern.js';

const lab = createLab(t, { area: 'listen' });
const nodes = [calico.node('node-1', { ipv4Address: '10.202.0.1/24' }), calico.node('node-2', { ipv4Address: '10.202.0.2/24' })];
const cfg = (...extra: string[]) => [calico.bgpConfiguration({ asNumber: 64512, bindMode: 'NodeIP' }), ...extra, ...nodes];

async function listeners(host: string): Promise<string[]> {
  const out = (await lab.exec(host, 'ss', ['-ltnH'])).stdout;
  return out.split('\n').map((l) => l.trim().split(/\s+/)[3]).filter((x): x is string => !!x && !/:9099$/.test(x)).sort();
}

t.test('bindMode NodeIP listens on the node address only; listenPort changes live', async (t) => {
  await segment(lab, 'fab', { 'node-1': { v4: '10.202.0.1/24', ifName: 'eth0' }, 'node-2': { v4: '10.202.0.2/24', ifName: 'eth0' } });
  await lab.exec('node-1', 'ip', ['addr', 'add', '10.202.0.100/24', 'dev', 'eth0']);
  const { spec: ds, path: file } = fileDatastore(lab, cfg());
  const n1 = await startTern(lab, 'node-1', { datastore: ds, node: 'node-1', extraArgs: ['--no-fib'] });
  const n2 = await startTern(lab, 'node-2', { datastore: ds, node: 'node-2', extraArgs: ['--no-fib'] });
  t.same(await listeners('node-1'), ['10.202.0.1:179'], 'only the node address, not 10.202.0.100 or *');
  await n1.waitPeer('10.202.0.2');

  writeFileSync(file, calicoYaml(cfg(calico.bgpConfiguration({ listenPort: 1790 }, 'node.node-1'))));
  const moved = await lab.waitFor(async () => {
    const l = await listeners('node-1');
    return l.join() === '10.202.0.1:1790' ? l : null;
  }, { what: 'node-1 listening on 10.202.0.1:1790', timeoutMs: 20_000 });
  t.same(moved, ['10.202.0.1:1790'], 'the listener moved without a restart');
  const p = await n2.waitPeer('10.202.0.1');
  t.equal(p.port, 1790, 'node-2 reaches node-1 on its new port');
  t.equal((await n1.status()).daemon.listenPort, 1790, 'tern status shows the new port');
  t.ok(n1.proc.running(), 'the same daemon process still runs');
});
