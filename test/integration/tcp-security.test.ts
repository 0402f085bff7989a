// TCP MD5 (RFC 2385) and GTSM (RFC 5082) against BIRD 2 in network namespaces:
// - BGPPeer password from a v1 Secret in the file datastore, BIRD (passive) with the same
//   password: tern dials signed, Established, routes both ways; an unsigned TCP connection
//   from that address gets nothing. (The mesh case below has tern on the listening side.)
// - BGPPeer password from the secrets directory that differs from BIRD's: never Established,
//   tern keeps running; rotating the file re-keys that session alone.
// - BGPPeer whose secret does not exist: not started, `tern status` says why.
// - BIRD `ttl security on` (passive) + BGPPeer ttlSecurity: 1: Established (TTL 255 both ways).
// - Mesh with nodeMeshPassword (from TERN_SECRETS_DIR): a BIRD node with the password joins,
//   one without does not.
// Secret values never appear in tern's log, status, `get -o yaml` or metrics.
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { segment } from '../../lab/fixture.js';
import { startBird } from '../helpers/peers.js';
import { startTern } from '../helpers/tern.js';

const NODE = '10.97.0.10';
const TOR1 = { v4: '10.97.0.21', asn: 65001 };
const TOR2 = { v4: '10.97.0.22', asn: 65002 };
const TOR3 = { v4: '10.97.0.23', asn: 65003 };
const TOR4 = '10.97.0.24';
const PW1 = 'tor1-Secret-value';
const PW2_BIRD = 'bird-side-value';
const PW2_TERN = 'tern-side-value';
const BLOCK = '10.244.7.0/26';

const datastore = [
  calico.bgpConfiguration({ asNumber: 64512, nodeToNodeMeshEnabled: false, logSeverityScreen: 'Debug' }),
  calico.node('node-a', { ipv4Address: `${NODE}/24` }),
  calico.ipPool('pool', '10.244.0.0/16'),
  calico.blockAffinity('node-a', BLOCK, 'confirmed', 'node-a-block'),
  calico.bgpPeer('tor1', { peerIP: TOR1.v4, asNumber: TOR1.asn, password: { secretKeyRef: { name: 'bgp-passwords', key: 'tor1' } } }),
  calico.bgpPeer('tor2', { peerIP: TOR2.v4, asNumber: TOR2.asn, password: { secretKeyRef: { name: 'dir-secret', key: 'tor2' } } }),
  calico.bgpPeer('tor3', { peerIP: TOR3.v4, asNumber: TOR3.asn, ttlSecurity: 1 }),
  calico.bgpPeer('tor4', { peerIP: TOR4, asNumber: 65004, password: { secretKeyRef: { name: 'nowhere', key: 'pw' } } }),
  calico.secret('bgp-passwords', 'kube-system', { tor1: PW1 }),
];

/** Connects from `from` to `to`:179 inside `host`'s namespace; reports what happened in 3 s. */
const PROBE = `
const net = require('node:net');
const s = net.connect({ host: process.argv[1], port: 179, localAddress: process.argv[2] });
let connected = false, bytes = 0;
s.on('connect', () => { connected = true; });
s.on('data', (d) => { bytes += d.length; });
s.on('error', () => {});
setTimeout(() => { console.log(JSON.stringify({ connected, bytes })); s.destroy(); process.exit(0); }, 3000);
`;

t.test('TCP MD5 and GTSM with BIRD 2 peers', async (t) => {
  const lab = createLab(t, { area: 'tcpsec' });
  // Static neighbours: immune to other labs filling the shared ARP table.
  await segment(lab, 'seg', { node: `${NODE}/24`, tor1: `${TOR1.v4}/24`, tor2: `${TOR2.v4}/24`, tor3: `${TOR3.v4}/24` }, { staticNeighbours: true });
  const secretsDir = lab.path('secrets');
  mkdirSync(join(secretsDir, 'dir-secret'), { recursive: true });
  writeFileSync(join(secretsDir, 'dir-secret', 'tor2'), PW2_TERN);

  const tern = await startTern(lab, 'node', { datastoreYaml: calicoYaml(datastore), node: 'node-a', logLevel: 'debug', extraArgs: ['--secrets-dir', secretsDir] });
  const tor1 = await startBird(lab, 'tor1', {
    routerId: TOR1.v4, asn: TOR1.asn, exportAll: true,
    // Passive: tern's connecting socket must carry the key (BIRD's listener drops anything else).
    neighbors: [{ address: NODE, asn: 64512, name: 'tern', password: PW1, passive: true }],
    staticRoutes: [{ prefix: '10.244.100.0/26', blackhole: true }],
  });
  const tor2 = await startBird(lab, 'tor2', { routerId: TOR2.v4, asn: TOR2.asn, neighbors: [{ address: NODE, asn: 64512, name: 'tern', password: PW2_BIRD }] });
  const tor3 = await startBird(lab, 'tor3', {
    routerId: TOR3.v4, asn: TOR3.asn, exportAll: true,
    // Passive: tern dials with TTL 255 and accepts BIRD's TTL-255 SYN-ACK under its minimum.
    neighbors: [{ address: NODE, asn: 64512, name: 'tern', ttlSecurity: true, passive: true }],
    staticRoutes: [{ prefix: '10.244.103.0/26', blackhole: true }],
  });

  // MD5 with the same password: up, routes both ways.
  await tern.waitPeer(TOR1.v4);
  await tor1.waitEstablished('tern');
  await lab.waitFor(async () => (await tern.routes()).some((r) => r.prefix === '10.244.100.0/26' && r.source === TOR1.v4), { what: 'tern has tor1\'s route' });
  await lab.waitFor(async () => (await tor1.routes()).some((r) => r.prefix === BLOCK), { what: 'tor1 has tern\'s block' });
  t.pass('MD5 session with BIRD Established, routes exchanged');

  // GTSM: BIRD drops anything below TTL 255, so Established means tern sends 255.
  await tern.waitPeer(TOR3.v4);
  await tor3.waitEstablished('tern');
  await lab.waitFor(async () => (await tern.routes()).some((r) => r.prefix === '10.244.103.0/26'), { what: 'tern has tor3\'s route' });
  t.pass('GTSM session with BIRD `ttl security on` Established');

  // Unsigned TCP from tor1's address: the kernel drops the SYN (no connection, no OPEN).
  const probe = JSON.parse((await lab.exec('tor1', process.execPath, ['-e', PROBE, NODE, TOR1.v4])).stdout.trim()) as { connected: boolean; bytes: number };
  t.same(probe, { connected: false, bytes: 0 }, 'unsigned connection from the MD5 peer\'s address gets no OPEN back');

  // Different passwords: never Established, tern keeps running.
  const unresolved = await tern.waitPeer(TOR4, 'Idle');
  t.same(unresolved.notStarted, { reason: 'passwordUnresolved', detail: 'password secret nowhere/pw unavailable: no directory ' + join(secretsDir, 'nowhere') });
  t.equal(unresolved.state, 'down');
  await new Promise((r) => setTimeout(r, 8000)); // tor2 and tern both dial (connect retry 5 s)
  const st = await tern.status();
  t.not(st.peers.find((p) => p.address === TOR2.v4)?.bgpState, 'Established', 'wrong password: not Established');
  t.ok(tern.proc.running(), 'tern still running');
  const tor2State = (await tor2.protocols()).find((p) => p.name === 'tern');
  t.not(tor2State?.info, 'Established');

  // Rotating the directory secret (as the kubelet does: a new file renamed over) re-keys tor2 alone.
  const sinceBefore = Object.fromEntries(st.peers.map((p) => [p.address, p.since]));
  writeFileSync(join(secretsDir, 'dir-secret', '.tor2.tmp'), PW2_BIRD);
  renameSync(join(secretsDir, 'dir-secret', '.tor2.tmp'), join(secretsDir, 'dir-secret', 'tor2'));
  await tern.waitPeer(TOR2.v4, 'Established', 30_000);
  await tor2.waitEstablished('tern');
  const after = await tern.status();
  for (const a of [TOR1.v4, TOR3.v4]) t.equal(after.peers.find((p) => p.address === a)?.since, sinceBefore[a], `${a} kept its session`);

  // No secret value anywhere an operator or a scraper looks.
  const ds = tern.datastore;
  const outputs: Record<string, string> = {
    log: readFileSync(tern.logFile, 'utf8'),
    status: await tern.cli('status', '--json', '--socket', tern.socket),
    statusTable: await tern.cli('status', '--socket', tern.socket),
    metrics: await tern.cli('metrics', '--socket', tern.socket),
    getPeers: await tern.cli('get', 'bgppeers', '-o', 'yaml', '--datastore', ds),
    getConfig: await tern.cli('get', 'bgpconfigurations', '-o', 'json', '--datastore', ds),
  };
  t.match(outputs.getPeers, /secretKeyRef/, 'get shows the reference');
  t.match(outputs.log, /md5KeySet/, 'the log records keys being set (without them)');
  for (const [where, text] of Object.entries(outputs)) {
    for (const v of [PW1, PW2_BIRD, PW2_TERN]) t.notOk(text.includes(v), `${where} does not contain a secret value`);
  }
});

t.test('mesh with nodeMeshPassword: a BIRD node with the password joins, one without does not', async (t) => {
  const lab = createLab(t, { area: 'meshmd5' });
  const A = '10.97.1.10';
  const B = '10.97.1.21';
  const C = '10.97.1.22';
  await segment(lab, 'seg', { a: `${A}/24`, b: `${B}/24`, c: `${C}/24` }, { staticNeighbours: true });
  const meshPw = 'mesh-Password-1';
  const yaml = calicoYaml(
    calico.bgpConfiguration({ asNumber: 64512, nodeMeshPassword: { secretKeyRef: { name: 'mesh-secret', key: 'password' } } }),
    [['node-a', A], ['node-b', B], ['node-c', C]].map(([n, ip]) => calico.node(n!, { ipv4Address: `${ip}/24` })),
  );
  // The mesh password from a mounted-Secret directory named by the environment variable.
  const dir = lab.path('mesh-secrets');
  mkdirSync(join(dir, 'mesh-secret'), { recursive: true });
  writeFileSync(join(dir, 'mesh-secret', 'password'), meshPw);
  const tern = await startTern(lab, 'a', { datastoreYaml: yaml, node: 'node-a', env: { TERN_SECRETS_DIR: dir } });
  const b = await startBird(lab, 'b', { routerId: B, asn: 64512, neighbors: [{ address: A, asn: 64512, name: 'Mesh_10_97_1_10', password: meshPw }] });
  await startBird(lab, 'c', { routerId: C, asn: 64512, neighbors: [{ address: A, asn: 64512, name: 'Mesh_10_97_1_10' }] });
  await tern.waitPeer(B);
  await b.waitEstablished('Mesh_10_97_1_10');
  t.pass('BIRD node with the mesh password joined');
  await new Promise((r) => setTimeout(r, 8000));
  const c = (await tern.status()).peers.find((p) => p.address === C);
  t.ok(c, 'node-c is a mesh peer');
  t.not(c?.bgpState, 'Established', 'BIRD node without the password did not join');
  t.notOk(readFileSync(tern.logFile, 'utf8').includes(meshPw), 'mesh password not in the log');
});
