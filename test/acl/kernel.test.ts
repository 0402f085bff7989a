// The ACL companion against the real kernel: two hosts (namespaces) joined by a veth with
// static routes, three pods wired like Calico's CNI (cali* veth, 169.254.1.1 gateway, /32
// host routes, proxy_arp), one AclCompanion per host writing `inet tern` through
// `ip netns exec HOST nft`. Every verdict seen on the wire is also checked against explain()
// on the same Snapshot. Namespaces are `tn-acl-<random>-*`, removed in teardown.
import t, { type Test } from 'tap';
import { AclCompanion } from '../../src/acl/companion.js';
import { explain } from '../../src/acl/explain.js';
import { NftCommand } from '../../src/acl/nft.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import type { Snapshot } from '../../src/model/types.js';
import { createLab, type Lab } from '../../lab/netns.js';
import { gnp, gns, node, np, threePods, tier, type PodIfaces } from './fixtures/resources.js';

const SERVER = "const net=require('net');for(const p of process.argv.slice(1))net.createServer((s)=>s.end('ok')).listen(+p,()=>console.log('listening '+p));";
const CLIENT = "const net=require('net');const [h,p]=process.argv.slice(1);const s=net.connect({host:h,port:+p});" +
  "const done=(r)=>{console.log(r);process.exit(0)};s.setTimeout(1500,()=>done('timeout'));" +
  "s.on('data',(d)=>{if(String(d)==='ok')done('ok')});s.on('error',(e)=>done('error '+e.code));";

const IP = { frontend: '10.65.0.1', other: '10.65.0.2', db: '10.65.1.1' } as const;
const IP6 = { frontend: 'fd00:65::1', other: 'fd00:65::2', db: 'fd00:65:1::1' } as const;
type PodName = keyof typeof IP;
/** Plain node for the tiny servers/clients: without tap's loaders (NODE_OPTIONS). */
const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };

const ALLOW_DB = np('default', 'allow-db', {
  order: 100, selector: "role == 'db'", types: ['Ingress'],
  ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5432] } }],
});
const DENY_FRONTEND = gnp('deny-frontend-cidr', {
  order: 10, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { nets: ['10.65.0.1/32'] } }],
});
const DB_NO_EGRESS = gnp('db-no-egress', { order: 1, selector: "role == 'db'", types: ['Egress'], egress: [] });

async function reach(lab: Lab, from: PodName, to: PodName, flow: string, v6 = false): Promise<boolean> {
  const dst = v6 ? IP6[to] : IP[to];
  if (flow === 'icmp' || flow === 'icmpv6') {
    const r = await lab.exec(from, 'ping', ['-c', '1', '-W', '1', dst], { allowFail: true });
    return / 1 received/.test(r.stdout);
  }
  const port = flow.split('/')[1]!;
  const r = await lab.exec(from, 'node', ['-e', CLIENT, dst, port], { timeoutMs: 10_000, env: PLAIN_ENV });
  return r.stdout.trim() === 'ok';
}

t.test('ACL companion in network namespaces', async (t) => {
  const lab = createLab(t, { area: 'acl' });
  await lab.addHost('ha');
  await lab.addHost('hb');
  await lab.link('ha', 'hb', { v4: '192.168.77.0/24', v6: 'fd00:77::/64' });
  const pods = {
    frontend: await lab.addPod('ha', 'frontend', IP.frontend, { ip6: IP6.frontend }),
    other: await lab.addPod('ha', 'other', IP.other, { ip6: IP6.other }),
    db: await lab.addPod('hb', 'db', IP.db, { ip6: IP6.db }),
  };
  await lab.ip('ha', 'route', 'add', '10.65.1.0/24', 'via', '192.168.77.2');
  await lab.ip('hb', 'route', 'add', '10.65.0.0/24', 'via', '192.168.77.1');
  await lab.ip('ha', '-6', 'route', 'add', 'fd00:65:1::/64', 'via', 'fd00:77::2');
  await lab.ip('hb', '-6', 'route', 'add', 'fd00:65::/64', 'via', 'fd00:77::1');
  const ifaces: PodIfaces = { frontend: pods.frontend.hostIf, other: pods.other.hostIf, db: pods.db.hostIf };

  // The operator's own FORWARD rules on host b, in another nft table and in iptables(-nft).
  await lab.exec('hb', 'nft', ['-f', '-'], {
    input: 'table ip opfilter {\n chain opforward {\n  type filter hook forward priority filter; policy accept;\n  ip daddr 10.65.1.1 counter\n }\n}\n',
  });
  await lab.exec('hb', 'iptables', ['-A', 'FORWARD', '-p', 'tcp', '--dport', '9999', '-j', 'DROP']);
  const operatorRules = async (): Promise<string> => {
    const nft = (await lab.exec('hb', 'nft', ['list', 'table', 'ip', 'opfilter'])).stdout.replace(/packets \d+ bytes \d+/g, 'counter');
    const ipt = (await lab.exec('hb', 'iptables', ['-S', 'FORWARD'])).stdout;
    return nft + ipt;
  };
  const opCounter = async (): Promise<number> =>
    Number(/packets (\d+)/.exec((await lab.exec('hb', 'nft', ['list', 'table', 'ip', 'opfilter'])).stdout)?.[1] ?? -1);
  const opBefore = await operatorRules();

  for (const [pod, ports] of [['db', ['5432', '8080', '9999']], ['frontend', ['80']]] as const) {
    const srv = lab.spawn(pod, 'node', ['-e', SERVER, ...ports], { env: PLAIN_ENV });
    await lab.waitFor(() => ports.every((p) => srv.log().includes(`listening ${p}`)), { what: `${pod} servers` });
  }

  const companions = {
    ha: new AclCompanion({ nodeName: 'host-a', logger: silentLogger(), clock: systemClock, resyncMs: 3_600_000, nft: new NftCommand({ netns: lab.ns('ha') }) }),
    hb: new AclCompanion({ nodeName: 'host-b', logger: silentLogger(), clock: systemClock, resyncMs: 3_600_000, nft: new NftCommand({ netns: lab.ns('hb') }) }),
  };
  t.teardown(async () => { await companions.ha.stop(); await companions.hb.stop(); });
  let snap: Snapshot = threePods({}, { ifaces, v6: true });
  const push = async (s: Snapshot): Promise<void> => {
    snap = s;
    for (const c of Object.values(companions)) c.update(s);
    for (const c of Object.values(companions)) await c.idle();
    for (const c of Object.values(companions)) t.equal(c.status().lastError, null, 'applied without error');
  };
  /** Asserts the kernel verdict AND that explain() predicts it (IPv6 when `v6`). */
  const expectFlow = async (tt: Test, from: PodName, to: PodName, flow: string, allowed: boolean, v6 = false): Promise<void> => {
    const predicted = v6 ? explain(snap, IP6[from], IP6[to], flow) : explain(snap, `default/${from}`, `default/${to}`, flow);
    tt.equal(predicted.allowed, allowed, `explain: ${predicted.text}`);
    tt.equal(await reach(lab, from, to, flow, v6), allowed, `kernel: ${from} -> ${to} ${flow}${v6 ? ' (IPv6)' : ''} ${allowed ? 'passes' : 'dropped'}`);
  };

  await push(snap);
  for (const c of Object.values(companions)) c.start();
  for (const c of Object.values(companions)) await c.idle();
  for (const h of ['ha', 'hb']) {
    await lab.waitFor(async () => (await lab.exec(h, 'nft', ['list', 'table', 'inet', 'tern'], { allowFail: true })).stdout.includes('tern-to-wl'), { what: `table on ${h}` });
  }

  await t.test('profile allow-all: pods reach each other, across hosts and on one host', async (t) => {
    await expectFlow(t, 'frontend', 'db', 'icmp', true);
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'db', 'frontend', 'tcp/80', true);
    await expectFlow(t, 'other', 'frontend', 'icmp', true);
    await expectFlow(t, 'frontend', 'db', 'icmpv6', true, true);
    await expectFlow(t, 'db', 'frontend', 'tcp/80', true, true);
  });

  await t.test('an endpoint with no profile and no policy is isolated', async (t) => {
    await push(threePods({ revision: 2 }, { ifaces, v6: true, dbProfiles: [] }));
    await expectFlow(t, 'frontend', 'db', 'icmp', false);
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', false);
    await expectFlow(t, 'db', 'frontend', 'tcp/80', false);
    await expectFlow(t, 'other', 'frontend', 'icmp', true);
  });

  await t.test('policy: TCP 5432 from role frontend to role db, nothing else', async (t) => {
    await push(threePods({ revision: 3, nps: [ALLOW_DB] }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', false);
    await expectFlow(t, 'frontend', 'db', 'icmp', false);
    await expectFlow(t, 'other', 'db', 'tcp/5432', false);
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true, true);
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', false, true);
    await expectFlow(t, 'other', 'db', 'tcp/5432', false, true);
  });

  await t.test('a lower-order Deny to a CIDR wins over a later Allow; removing it restores', async (t) => {
    await push(threePods({ revision: 4, nps: [ALLOW_DB], gnps: [DENY_FRONTEND] }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', false);
    await push(threePods({ revision: 5, nps: [ALLOW_DB] }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
  });

  await t.test('return traffic of an allowed flow passes although egress denies new flows', async (t) => {
    await push(threePods({ revision: 6, nps: [ALLOW_DB], gnps: [DB_NO_EGRESS] }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'db', 'frontend', 'tcp/80', false);
  });

  await t.test('tampering is repaired by the resync', async (t) => {
    await push(threePods({ revision: 7, nps: [ALLOW_DB] }, { ifaces, v6: true }));
    t.equal(await companions.hb.resyncNow(), null, 'no drift right after apply');
    await lab.exec('hb', 'nft', ['insert', 'rule', 'inet', 'tern', `tern-tw-${ifaces.db}`, 'accept']);
    t.equal(await reach(lab, 'other', 'db', 'tcp/5432'), true, 'an inserted accept lets everything in');
    t.equal(await companions.hb.resyncNow(), 'chains, sets or maps differ', 'inserted rule detected');
    await expectFlow(t, 'other', 'db', 'tcp/5432', false);
    await lab.exec('hb', 'nft', ['flush', 'chain', 'inet', 'tern', `tern-tw-${ifaces.db}`]);
    t.equal(await reach(lab, 'frontend', 'db', 'tcp/5432'), false, 'a flushed endpoint chain falls through to the unknown-interface drop');
    t.equal(await companions.hb.resyncNow(), 'chains, sets or maps differ', 'flushed chain detected');
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await lab.exec('hb', 'nft', ['delete', 'table', 'inet', 'tern']);
    t.equal(await companions.hb.resyncNow(), 'table is missing', 'deleted table detected');
    const rule = (await lab.exec('hb', 'nft', ['-a', 'list', 'chain', 'inet', 'tern', `tern-pi-default_allow-db`])).stdout;
    const handle = /accept # handle (\d+)/.exec(rule)?.[1];
    await lab.exec('hb', 'nft', ['replace', 'rule', 'inet', 'tern', 'tern-pi-default_allow-db', 'handle', String(handle), 'accept']);
    t.equal(await companions.hb.resyncNow(), 'rules differ', 'a rewritten rule is drift too (same rule counts)');
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'other', 'db', 'tcp/5432', false);
  });

  await t.test('set-only change is applied incrementally', async (t) => {
    const before = companions.hb.status().applies;
    await push(threePods({ revision: 8, nps: [ALLOW_DB] }, { ifaces, v6: true, otherRole: 'frontend' }));
    t.equal(companions.hb.status().lastMode, 'incremental', 'relabelled pod: only a set element moved');
    t.equal(companions.hb.status().applies, before + 1);
    await expectFlow(t, 'other', 'db', 'tcp/5432', true);
    t.equal(await companions.hb.resyncNow(), null, 'incremental result matches the desired table');
    await push(threePods({ revision: 9, nps: [ALLOW_DB] }, { ifaces, v6: true }));
    t.equal(companions.hb.status().lastMode, 'incremental');
    await expectFlow(t, 'other', 'db', 'tcp/5432', false);
  });

  await t.test('a Deny in tier security (order 100) beats an Allow in the default tier', async (t) => {
    const sec = tier('security', { order: 100 });
    const deny = gnp('security.no-frontend', { tier: 'security', order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "role == 'frontend'" } }, { action: 'Pass' }] });
    await push(threePods({ revision: 20, tiers: [sec], gnps: [deny], nps: [ALLOW_DB] }, { ifaces, v6: true, otherRole: 'frontend' }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', false);
    await push(threePods({ revision: 21, tiers: [sec], gnps: [gnp('security.no-frontend', { tier: 'security', order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Pass' }] })], nps: [ALLOW_DB] }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', false);
  });

  await t.test('an Allow to a named port opens that port only', async (t) => {
    const named = np('default', 'allow-named', {
      order: 100, selector: "role == 'db'", types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['postgres'] } }],
    });
    const dbPorts = [{ name: 'postgres', protocol: 'TCP', port: 5432 }, { name: 'web', protocol: 'TCP', port: 8080 }];
    await push(threePods({ revision: 22, nps: [named] }, { ifaces, v6: true, dbPorts }));
    t.same(companions.hb.status().problems, []);
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', false);
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true, true);
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', false, true);
  });

  await t.test('a long tier list (chunk chains): Pass in the second chunk reaches the profiles, Deny after it holds', async (t) => {
    const noop = Array.from({ length: 17 }, (_, i) => gnp(`noop-${String(i).padStart(2, '0')}`, { order: i, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Log', protocol: 'UDP' }] }));
    const pass = gnp('pass-frontend', { order: 50, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Pass', source: { selector: "role == 'frontend'" } }] });
    const deny = gnp('deny-rest', { order: 60, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny' }] });
    await push(threePods({ revision: 30, gnps: [...noop, pass, deny] }, { ifaces, v6: true }));
    t.match((await lab.exec('hb', 'nft', ['list', 'table', 'inet', 'tern'])).stdout, /chain tern-ci-[0-9a-f]{16} /, 'the tier list is split into chunk chains');
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', true);
    await expectFlow(t, 'other', 'db', 'tcp/5432', false);
  });

  await t.test("a Deny from a GlobalNetworkSet's addresses stops that host", async (t) => {
    const set = gns('blocked', { blocked: 'yes' }, ['10.65.0.1/32']);
    const deny = gnp('deny-blocked', { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "blocked == 'yes'" } }, { action: 'Pass' }] });
    await push(threePods({ revision: 23, gnss: [set], gnps: [deny] }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', false);
    await expectFlow(t, 'other', 'db', 'tcp/5432', true);
  });

  await t.test('a services rule with no endpoint data denies and is reported', async (t) => {
    const svc = gnp('to-db-service', { order: 1, selector: "role == 'frontend'", types: ['Egress'], egress: [{ action: 'Allow', protocol: 'TCP', destination: { services: { name: 'db', namespace: 'default' } } }] });
    await push(threePods({ revision: 24, gnps: [svc] }, { ifaces, v6: true }));
    t.match(companions.ha.status().problems, [{ kind: 'GlobalNetworkPolicy', key: 'to-db-service', reason: /services/ }]);
    await expectFlow(t, 'frontend', 'db', 'tcp/5432', false);
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', false);
    await expectFlow(t, 'other', 'db', 'tcp/5432', true);
  });

  await t.test("a pod under egress default deny cannot reach its node's address; the host still reaches the pod", async (t) => {
    const nodes = [node('host-a', '192.168.77.1/24'), node('host-b', '192.168.77.2/24')];
    await push(threePods({ revision: 25, nodes, gnps: [DB_NO_EGRESS] }, { ifaces, v6: true }));
    const ping = async (from: string, dst: string): Promise<boolean> => / 1 received/.test((await lab.exec(from, 'ping', ['-c', '1', '-W', '1', dst], { allowFail: true })).stdout);
    t.equal(explain(snap, 'default/db', '192.168.77.2', 'icmp').allowed, false, 'explain: dropped');
    t.equal(await ping('db', '192.168.77.2'), false, 'kernel: db -> its node 192.168.77.2 dropped');
    t.equal(await ping('hb', IP.db), true, 'host -> pod (and its reply) pass');
    await push(threePods({ revision: 26, nodes }, { ifaces, v6: true }));
    t.equal(await ping('db', '192.168.77.2'), false, 'DefaultEndpointToHostAction Drop: even the allow-all profile does not reach the host');
    t.equal(explain(snap, 'default/db', '192.168.77.2', 'icmp').allowed, false);
    t.equal(await ping('frontend', '192.168.77.2'), true, 'another node\'s address is not workload-to-host there');
  });

  await t.test("the operator's FORWARD rules survive start, updates and stop", async (t) => {
    t.equal(await operatorRules(), opBefore, 'unchanged while tern runs');
    t.ok((await opCounter()) > 0, 'their counter keeps counting forwarded packets');
    await push(threePods({ revision: 10 }, { ifaces, v6: true }));
    await expectFlow(t, 'frontend', 'db', 'tcp/8080', true);
    t.equal(await reach(lab, 'frontend', 'db', 'tcp/9999'), false, 'their drop is final although our profile allows');
    t.equal(explain(snap, 'default/frontend', 'default/db', 'tcp/9999').allowed, true, 'tern alone would allow it');
    await companions.ha.stop();
    await companions.hb.stop({ cleanup: true });
    t.equal((await lab.exec('hb', 'nft', ['list', 'table', 'inet', 'tern'], { allowFail: true })).stdout, '', 'cleanup removed inet tern on hb');
    t.match((await lab.exec('ha', 'nft', ['list', 'table', 'inet', 'tern'])).stdout, /tern-from-wl/, 'plain stop keeps the table (Felix does too)');
    t.equal(await operatorRules(), opBefore, 'unchanged after stop --cleanup');
  });
});
