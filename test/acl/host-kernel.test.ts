// Host endpoint policy against the real kernel: host ha (client) and host hb (a HostEndpoint
// on its veth towards ha, a pod `web` behind it) in `tn-acl-<random>-*` namespaces, one
// AclCompanion writing `inet tern` in hb. Each verdict on the wire is also checked against
// explain() where explain covers the flow (to and from the host; not forwarded traffic):
// Deny with failsafe tcp/22, default deny, preDNAT before DNAT, stateless doNotTrack,
// applyOnForward, an `*` endpoint, and cleanup.
import t, { type Test } from 'tap';
import { AclCompanion } from '../../src/acl/companion.js';
import { explain } from '../../src/acl/explain.js';
import { NftCommand } from '../../src/acl/nft.js';
import { IpAddrCommand } from '../../src/acl/interfaces.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import type { GlobalNetworkPolicyResource, HostEndpointResource, Snapshot } from '../../src/model/types.js';
import { createLab } from '../../lab/netns.js';
import { ALLOW_ALL, gnp, hep, profile, snapshot, wep } from './fixtures/resources.js';

const SERVER = "const net=require('net');for(const p of process.argv.slice(1))net.createServer((s)=>s.end('ok')).listen(+p,()=>console.log('listening '+p));";
const CLIENT = "const net=require('net');const [h,p]=process.argv.slice(1);const s=net.connect({host:h,port:+p});" +
  "const done=(r)=>{console.log(r);process.exit(0)};s.setTimeout(1500,()=>done('timeout'));" +
  "s.on('data',(d)=>{if(String(d)==='ok')done('ok')});s.on('error',(e)=>done('error '+e.code));";
const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
const HB = '192.168.78.2';
const WEB = '10.66.1.1';

t.test('host endpoint policy in network namespaces', async (t) => {
  const lab = createLab(t, { area: 'acl' });
  await lab.addHost('ha');
  await lab.addHost('hb');
  const link = await lab.link('ha', 'hb', { v4: '192.168.78.0/24' });
  const ifHb = link.b.ifName;
  const web = await lab.addPod('hb', 'web', WEB);
  await lab.ip('ha', 'route', 'add', '10.66.1.0/24', 'via', HB);
  // The operator's DNAT on hb: port 8081 on the host goes to 8080 (what preDNAT policy sees first).
  await lab.exec('hb', 'nft', ['-f', '-'], {
    input: 'table ip opnat {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  tcp dport 8081 dnat to :8080\n }\n}\n',
  });
  for (const [host, ports] of [['hb', ['22', '8080', '9000']], ['web', ['8080']]] as const) {
    const srv = lab.spawn(host, 'node', ['-e', SERVER, ...ports], { env: PLAIN_ENV });
    await lab.waitFor(() => ports.every((p) => srv.log().includes(`listening ${p}`)), { what: `${host} servers` });
  }
  const companion = new AclCompanion({ nodeName: 'host-b', logger: silentLogger(), clock: systemClock, resyncMs: 3_600_000, nft: new NftCommand({ netns: lab.ns('hb') }),
    interfaces: new IpAddrCommand({ netns: lab.ns('hb') }),
  });
  t.teardown(async () => { await companion.stop({ cleanup: true }); });

  let rev = 0;
  let snap: Snapshot;
  const uplink = hep('hb-uplink', { role: 'uplink' }, { node: 'host-b', interfaceName: ifHb, expectedIPs: [HB] });
  const push = async (gnps: GlobalNetworkPolicyResource[], heps: HostEndpointResource[] = [uplink]): Promise<void> => {
    snap = snapshot({
      revision: ++rev,
      heps,
      endpoints: [wep({ name: 'web', node: 'host-b', iface: web.hostIf, ips: [`${WEB}/32`], labels: { app: 'web' }, profiles: ['allow-all'] })],
      profiles: [profile('allow-all', ALLOW_ALL)],
      gnps,
    });
    companion.update(snap);
    await companion.idle();
    t.equal(companion.status().lastError, null, 'applied without error');
    t.same(companion.status().problems, [], 'nothing reported');
  };
  const connect = async (to: string, port: number): Promise<boolean> => {
    const r = await lab.exec('ha', 'node', ['-e', CLIENT, to, String(port)], { timeoutMs: 10_000, env: PLAIN_ENV });
    return r.stdout.trim() === 'ok';
  };
  /** Kernel verdict for ha -> hb host, and explain() agreeing. */
  const toHost = async (tt: Test, port: number, allowed: boolean, why: string): Promise<void> => {
    const predicted = explain(snap, '192.168.78.1', HB, `tcp/${port}`);
    tt.equal(predicted.allowed, allowed, `explain: ${predicted.text}`);
    tt.equal(await connect(HB, port), allowed, `kernel: ha -> hb tcp/${port} ${allowed ? 'passes' : 'dropped'} (${why})`);
  };

  const denyAll = gnp('uplink-deny', { order: 100, selector: "role == 'uplink'", types: ['Ingress'], ingress: [{ action: 'Deny' }] });
  await push([denyAll]);
  companion.start();
  await companion.idle();

  await t.test('a Deny policy on the host endpoint blocks a port; failsafe tcp/22 stays reachable', async (t) => {
    await toHost(t, 8080, false, 'host endpoint Deny');
    await toHost(t, 22, true, 'failsafe');
  });

  await t.test('no policy at all: deny except failsafe; an Allow opens the port', async (t) => {
    await push([]);
    await toHost(t, 8080, false, 'host endpoint default deny');
    await toHost(t, 22, true, 'failsafe');
    await push([gnp('uplink-8080', { order: 10, selector: "role == 'uplink'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }] })]);
    await toHost(t, 8080, true, 'Allow; the reply leaves as established although egress has no policy');
  });

  await t.test('preDNAT policy sees the destination before DNAT', async (t) => {
    const allow8080 = gnp('uplink-8080', { order: 10, selector: "role == 'uplink'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } }] });
    await push([allow8080]);
    t.equal(await connect(HB, 8081), true, 'DNAT 8081 -> 8080: normal policy sees 8080 and allows');
    await push([allow8080, gnp('no-8081', { order: 1, selector: "role == 'uplink'", preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [8081] } }] })]);
    t.equal(await connect(HB, 8081), false, 'preDNAT Deny of 8081 drops it before the DNAT');
    t.equal(await connect(HB, 8080), true, '8080 itself is still allowed');
  });

  await t.test('doNotTrack policy is stateless: the reply needs its own Allow', async (t) => {
    const inOnly = gnp('untracked-9000', { order: 1, selector: "role == 'uplink'", doNotTrack: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [9000] } }] });
    await push([inOnly]);
    t.equal(await connect(HB, 9000), false, 'untracked ingress Allow alone: the reply is not established, host egress denies it');
    const both = gnp('untracked-9000', { ...inOnly.spec, types: ['Ingress', 'Egress'], egress: [{ action: 'Allow', protocol: 'TCP', source: { ports: [9000] } }] });
    await push([both]);
    t.equal(await connect(HB, 9000), true, 'with an untracked egress Allow for source port 9000 the connection works');
  });

  await t.test('applyOnForward policy governs traffic forwarded through the host endpoint', async (t) => {
    const deny = (applyOnForward: boolean): GlobalNetworkPolicyResource => gnp('uplink-no-8080', {
      order: 1, selector: "role == 'uplink'", applyOnForward, types: ['Ingress'],
      ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [8080] } }, { action: 'Allow' }],
    });
    await push([deny(false)]);
    t.equal(await connect(WEB, 8080), true, 'without applyOnForward: forwarded traffic to the pod is not host endpoint policy');
    t.equal(await connect(HB, 8080), false, 'the host itself is protected');
    await push([deny(true)]);
    t.equal(await connect(WEB, 8080), false, 'with applyOnForward: forwarded traffic to the pod is denied');
  });

  await t.test('interfaceName "*": every host interface but the workloads\'', async (t) => {
    const all = hep('hb-all', { role: 'uplink' }, { node: 'host-b', interfaceName: '*', expectedIPs: [HB] });
    await push([denyAll], [all]);
    await toHost(t, 8080, false, '* host endpoint Deny');
    await toHost(t, 22, true, 'failsafe');
    t.equal(await connect(WEB, 8080), true, 'forwarded traffic to the pod: no applyOnForward policy');
    // pod -> its host is workload-to-host traffic: DefaultEndpointToHostAction (Drop), not the host endpoint.
    const predicted = explain(snap, 'default/web', HB, 'tcp/22');
    t.match(predicted, { allowed: false, egress: { reason: /DefaultEndpointToHostAction Drop/ }, ingress: null }, predicted.text);
    const fromPod = await lab.exec('web', 'node', ['-e', CLIENT, HB, '22'], { timeoutMs: 10_000, env: PLAIN_ENV });
    t.not(fromPod.stdout.trim(), 'ok', 'kernel: pod -> host tcp/22 dropped although 22 is a failsafe port of the host endpoint');
  });

  await t.test('no interfaceName: the interface holding an expectedIP is policed', async (t) => {
    const byIp = hep('hb-by-ip', { role: 'uplink' }, { node: 'host-b', expectedIPs: [HB] });
    await push([denyAll], [byIp]);
    await toHost(t, 8080, false, 'host endpoint found by its address');
    await toHost(t, 22, true, 'failsafe');
    const table = (await lab.exec('hb', 'nft', ['list', 'chain', 'inet', 'tern', 'tern-hep-in'])).stdout;
    t.match(table, new RegExp(`iifname "${ifHb}" goto tern-hi-${ifHb}`), 'dispatch by the interface that holds the address');
  });

  await t.test('the host reaching its own workload is not policed (neither host endpoint egress nor the pod\'s ingress)', async (t) => {
    await push([gnp('web-no-ingress', { order: 1, selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Deny' }] })]);
    const fromHost = explain(snap, HB, 'default/web', 'tcp/8080');
    t.equal(fromHost.allowed, true, `explain: ${fromHost.text}`);
    const r = await lab.exec('hb', 'node', ['-e', CLIENT, WEB, '8080'], { timeoutMs: 10_000, env: PLAIN_ENV });
    t.equal(r.stdout.trim(), 'ok', 'kernel: hb -> its pod web tcp/8080 passes although the host endpoint has no policy and web denies ingress');
    const fromAway = explain(snap, '192.168.78.1', 'default/web', 'tcp/8080');
    t.equal(fromAway.allowed, false, `explain: ${fromAway.text}`);
    t.equal(await connect(WEB, 8080), false, 'kernel: ha -> web tcp/8080 (forwarded) is dropped by web\'s ingress Deny');
  });

  await t.test('--cleanup removes the host endpoint chains with the table', async (t) => {
    await companion.stop({ cleanup: true });
    const r = await lab.exec('hb', 'nft', ['list', 'table', 'inet', 'tern'], { allowFail: true });
    t.notMatch(r.stdout, /tern-hep-in/);
    t.equal(await connect(HB, 8080), true, 'the host is open again');
  });
});
