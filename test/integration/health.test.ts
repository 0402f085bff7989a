// Probes as a DaemonSet uses them: `tern health --live/--ready` (exit 0 or 1, one line why)
// and /livez, /readyz on the metrics server. Two tern nodes in a mesh on a shared file
// datastore: node-1 alone is live but not ready (its mesh peer node-2 is down); once node-2
// runs, both are ready; when node-2 stops, node-1 is not ready again.
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { calico } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { startTern, TERN_BIN, type TernHandle } from '../helpers/tern.js';

const lab = createLab(t, { area: 'health' });
const NODES = [['node-1', '10.201.0.1'], ['node-2', '10.201.0.2']] as const;
const YAML = [
  calico.bgpConfiguration({ asNumber: 64512, nodeToNodeMeshEnabled: true }),
  NODES.map(([n, ip]) => calico.node(n, { ipv4Address: `${ip}/24` })),
];

/** `tern health <flag>` in the node's namespace: exit status and its one line. */
async function probe(h: TernHandle, flag: '--live' | '--ready'): Promise<{ code: number; line: string }> {
  const r = await lab.exec(h.host, 'sh', ['-c', `"$0" "$1" health ${flag} --socket "$2"; echo "exit=$?"`, process.execPath, TERN_BIN, h.socket], { allowFail: true });
  const lines = r.stdout.trim().split('\n');
  return { code: Number(/exit=(\d+)/.exec(lines.pop() ?? '')?.[1] ?? -1), line: lines.join('\n') };
}

/** GET http://127.0.0.1:9099<path> in the node's namespace: status code and body. */
async function http(h: TernHandle, path: string): Promise<{ status: number; body: string }> {
  const js = `fetch('http://127.0.0.1:9099${path}').then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))`;
  const r = await lab.exec(h.host, process.execPath, ['-e', js]);
  return JSON.parse(r.stdout) as { status: number; body: string };
}

t.test('ready only while every configured peer is Established; live throughout', async (t) => {
  await segment(lab, 'fab', Object.fromEntries(NODES.map(([n, ip]) => [n, { v4: `${ip}/24`, ifName: 'eth0' }])));
  const ds = fileDatastore(lab, YAML).spec;
  const n1 = await startTern(lab, 'node-1', { datastore: ds, node: 'node-1', extraArgs: ['--no-fib', '--metrics-listen', '127.0.0.1:9099'] });

  const live = await probe(n1, '--live');
  t.equal(live.code, 0, `--live exits 0 (${live.line})`);
  t.match(live.line, /^live: /);
  const notReady = await probe(n1, '--ready');
  t.equal(notReady.code, 1, '--ready exits 1 while the mesh peer is down');
  t.equal(notReady.line, 'not ready: BGP not established with 10.201.0.2', 'one line naming the peer');
  t.same(await http(n1, '/readyz'), { status: 503, body: 'not ready: BGP not established with 10.201.0.2\n' }, '/readyz 503');
  t.equal((await http(n1, '/livez')).status, 200, '/livez 200');

  const n2 = await startTern(lab, 'node-2', { datastore: ds, node: 'node-2', extraArgs: ['--no-fib'] });
  await n1.waitPeer('10.201.0.2');
  await n2.waitPeer('10.201.0.1');
  const ready = await probe(n1, '--ready');
  t.equal(ready.code, 0, '--ready exits 0 once the peer is Established');
  t.equal(ready.line, 'ready: 1 BGP peer Established');
  t.same(await http(n1, '/readyz'), { status: 200, body: 'ready: 1 BGP peer Established\n' }, '/readyz 200');
  t.equal((await probe(n2, '--ready')).code, 0, 'node-2 ready too');

  await n2.stop();
  await lab.waitFor(async () => (await n1.status()).peers.find((p) => p.address === '10.201.0.2' && p.bgpState !== 'Established'),
    { what: 'node-1: session to node-2 down' });
  const again = await probe(n1, '--ready');
  t.equal(again.code, 1, '--ready exits 1 again when the peer goes away');
  const gone = await probe(n2, '--live');
  t.equal(gone.code, 1, '--live exits 1 when no daemon answers');
  t.match(gone.line, /^not live: cannot reach the daemon/);
});
