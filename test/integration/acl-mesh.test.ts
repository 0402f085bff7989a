// Issue 6 (ACL companion), integration: two hosts running `tern daemon --acl` in a BGP full
// mesh (the pods' blocks are routed by BGP, no static routes), three pods, and the Calico
// resources edited while the daemons run. The same scenario runs twice, through a
// "datastore driver": a shared `file:` datastore replaced by rename on every edit (as
// editors do), and etcd through `tern apply` / `tern delete`.
//   profile allow-all: pods reach each other across hosts · no profile, no policy: isolated ·
//   TCP 5432 from role frontend to role db, nothing else · a label change moves a pod into
//   the rule's selector · a lower-order Deny of a CIDR wins over the later Allow, deleting it
//   restores · a profile change · `tern acl explain` names the deciding policy · policy
//   still follows while the node's BGP configuration is rejected (its Node resource is
//   gone) · the operator's FORWARD rules on node-2 survive start, updates and stop.
// Every change is waited for (the kernel table, then the traffic) and the delays are
// reported as comments, not asserted; every verdict is then checked once more.
import t, { type Test } from 'tap';
import { createLab, type Lab } from '../../lab/netns.js';
import {
  NODES, PODS, baseDocs, buildAclMesh, etcdDriver, fileDriver, gnpDoc, npDoc, profileDoc, reach, ternTable, waitKernelRoute, wepDoc,
  type AclMesh, type DatastoreDriver, type Doc, type NodeName, type PodName,
} from './acl-mesh-lab.js';

interface Flow { from: PodName; to: PodName; flow: string; allowed: boolean }
const ok = (from: PodName, to: PodName, flow: string): Flow => ({ from, to, flow, allowed: true });
const no = (from: PodName, to: PodName, flow: string): Flow => ({ from, to, flow, allowed: false });

const ROLES: Record<PodName, string> = { frontend: 'frontend', other: 'other', db: 'db' };
const ALLOW_ALL = { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] };
const KNS = (spec: Record<string, unknown>): Doc =>
  profileDoc('kns.default', { ...spec, labelsToApply: { 'pcns.projectcalico.org/name': 'default' } });
const ALLOW_DB = npDoc('allow-db', {
  order: 100, selector: "role == 'db'", types: ['Ingress'],
  ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5432] } }],
});
const DENY_FRONTEND = gnpDoc('deny-frontend-cidr', {
  order: 10, selector: "role == 'db'", types: ['Ingress'],
  ingress: [{ action: 'Deny', source: { nets: [`${PODS.frontend.ip}/32`] } }],
});

/** The verdict of every flow, probed concurrently (each probe is its own new connection). */
async function verdicts(lab: Lab, flows: readonly Flow[]): Promise<boolean[]> {
  return Promise.all(flows.map((f) => reach(lab, f.from, f.to, f.flow)));
}

const flowName = (f: Flow): string => `${f.from} -> ${f.to} ${f.flow}`;

async function checkFlows(t: Test, lab: Lab, flows: readonly Flow[]): Promise<void> {
  const got = await verdicts(lab, flows);
  flows.forEach((f, i) => t.equal(got[i], f.allowed, `${flowName(f)} ${f.allowed ? 'passes' : 'is dropped'}`));
}

/**
 * Makes one datastore change and waits for its outcome: first `inet tern` changes on every
 * host in `hosts`, then every flow has its expected verdict. Reports the delays (measured
 * from the moment the edit returned: the rename, or the exit of `tern apply`/`tern delete`),
 * then checks each verdict once more as the assertion.
 */
async function change(t: Test, m: AclMesh, what: string, hosts: readonly NodeName[], edit: () => Promise<void>, flows: readonly Flow[]): Promise<void> {
  const { lab } = m;
  const before = new Map(await Promise.all(hosts.map(async (h) => [h, await ternTable(lab, h)] as const)));
  const t0 = Date.now();
  await edit();
  const t1 = Date.now();
  const changedAt = new Map<NodeName, number>();
  await lab.waitFor(async () => {
    for (const h of hosts) if (!changedAt.has(h) && (await ternTable(lab, h)) !== before.get(h)) changedAt.set(h, Date.now() - t1);
    return changedAt.size === hosts.length;
  }, { what: `${what}: inet tern rewritten on ${hosts.join(', ')}`, timeoutMs: 15_000, intervalMs: 20 });
  let rounds = 0;
  const lagging = new Set<string>();
  if (flows.length > 0) await lab.waitFor(async () => {
    rounds++;
    const got = await verdicts(lab, flows);
    flows.forEach((f, i) => { if (got[i] !== f.allowed) lagging.add(flowName(f)); });
    return flows.every((f, i) => got[i] === f.allowed);
  }, { what: `${what}: ${flows.length} flows with their expected verdicts`, timeoutMs: 20_000, intervalMs: 100 });
  const tables = [...changedAt].map(([h, ms]) => `${h} ${ms} ms`).join(', ');
  const seen = flows.length === 0 ? '' : `; all verdicts seen after ${Date.now() - t1} ms (${rounds} probe round${rounds > 1 ? `s; lagging: ${[...lagging].join(', ')}` : ''})`;
  t.comment(`${what} (${m.driver.name}): the edit took ${t1 - t0} ms; after it returned, inet tern changed on ${tables}${seen}`);
  await checkFlows(t, lab, flows);
}

async function explainText(m: AclMesh, flow: string): Promise<string> {
  return m.terns.get('node-1')!.cli('acl', 'explain', 'default/frontend', 'default/db', flow, '--datastore', m.driver.spec);
}

function scenario(makeDriver: (lab: Lab, initial: Doc[]) => DatastoreDriver | Promise<DatastoreDriver>) {
  return async (t: Test): Promise<void> => {
    const lab = createLab(t, { area: 'aclmesh' });
    const m = await buildAclMesh(lab, makeDriver);
    const weps = (over: Partial<Record<PodName, { role?: string; profiles?: string[] }>> = {}): Doc[] =>
      (Object.keys(PODS) as PodName[]).map((p) =>
        wepDoc(p, m.ifaces[p], { role: over[p]?.role ?? ROLES[p] }, over[p]?.profiles ?? ['kns.default']));
    const wep = (p: PodName, o: { role?: string; profiles?: string[] } = {}): Doc => weps({ [p]: o }).find((d) => d.metadata.name === p)!;

    await t.test('the two daemons form the mesh and route the blocks learned by BGP', async (t) => {
      for (const n of NODES) {
        const h = m.terns.get(n.name)!;
        for (const o of NODES.filter((x) => x.name !== n.name)) {
          const peer = await h.waitPeer(o.ip);
          t.equal(peer.type, 'node-to-node mesh', `${n.name} has ${o.name} as a mesh peer`);
          t.equal(await waitKernelRoute(lab, n.name, o.block, o.ip), 'bird', `${n.name}: kernel route ${o.block} via ${o.ip} is tern's (proto bird)`);
          const learned = (await h.routes()).find((r) => r.prefix === o.block && r.best);
          t.equal(learned?.source, o.ip, `${n.name}: best path for ${o.block} was learned over BGP from ${o.ip}`);
        }
        const statics = await lab.ipJson<unknown[]>(n.name, 'route', 'show', 'proto', 'static');
        t.same(statics, [], `${n.name}: no static routes`);
      }
      // The companion is in force before any endpoint exists: unknown cali* interfaces drop.
      for (const n of NODES) await lab.waitFor(async () => (await ternTable(lab, n.name)).includes('tern-from-wl'), { what: `${n.name}: inet tern` });
      await checkFlows(t, lab, [no('frontend', 'db', 'icmp'), no('other', 'frontend', 'icmp')]);
      t.equal(await m.operatorRules(), m.opBefore, "node-2: the operator's rules are unchanged after start");
    });

    await t.test('endpoints with a profile allowing everything reach each other', async (t) => {
      await change(t, m, 'endpoints and profile created', ['node-1', 'node-2'], () => m.driver.apply(KNS(ALLOW_ALL), ...weps()), [
        ok('frontend', 'db', 'icmp'), ok('frontend', 'db', 'tcp/5432'), ok('db', 'frontend', 'tcp/80'),
        ok('db', 'other', 'icmp'), ok('other', 'frontend', 'icmp'),
      ]);
      for (const h of m.terns.values()) t.same((await h.status()).daemon.errors, [], `${h.node}: no daemon or ACL errors`);
      const counted = await m.opCounter();
      t.ok(counted > 0, `node-2: the operator's counter counts forwarded packets (${counted})`);
      t.equal(await reach(lab, 'frontend', 'db', 'tcp/9999'), false, "the operator's FORWARD drop of tcp/9999 stays final");
      t.match(await explainText(m, 'tcp/9999'), /: ALLOWED/, 'although tern alone allows tcp/9999');
    });

    await t.test('an endpoint with no profile and no policy is unreachable', async (t) => {
      await change(t, m, 'db endpoint without profiles', ['node-2'], () => m.driver.apply(wep('db', { profiles: [] })), [
        no('frontend', 'db', 'icmp'), no('frontend', 'db', 'tcp/5432'), no('db', 'frontend', 'tcp/80'), ok('other', 'frontend', 'icmp'),
      ]);
    });

    await t.test('a policy allows exactly TCP 5432 from role frontend to role db', async (t) => {
      await change(t, m, 'allow-db policy', ['node-2'], () => m.driver.apply(wep('db'), ALLOW_DB), [
        ok('frontend', 'db', 'tcp/5432'), no('frontend', 'db', 'tcp/8080'), no('frontend', 'db', 'icmp'),
        no('other', 'db', 'tcp/5432'), ok('db', 'frontend', 'tcp/80'),
      ]);
      const out = await explainText(m, 'tcp/5432');
      t.comment(out.trim());
      t.match(out, /default\/frontend \(10\.244\.1\.2\) -> default\/db \(10\.244\.2\.2\) tcp\/5432: ALLOWED/, 'explain: allowed');
      t.match(out, /ingress of default\/db: allowed by policy default\/allow-db \(tier default\) rule 1 /, 'explain names allow-db as the deciding policy');
    });

    await t.test('a label change moves a pod into the rule selector and out again', async (t) => {
      await change(t, m, 'other relabelled role=frontend', ['node-2'], () => m.driver.apply(wep('other', { role: 'frontend' })),
        [ok('other', 'db', 'tcp/5432'), no('other', 'db', 'tcp/8080')]);
      await change(t, m, 'other relabelled back', ['node-2'], () => m.driver.apply(wep('other')), [no('other', 'db', 'tcp/5432')]);
    });

    await t.test('a lower-order Deny of a CIDR wins over the later Allow; deleting it restores', async (t) => {
      await change(t, m, 'deny-frontend-cidr added', ['node-2'], () => m.driver.apply(DENY_FRONTEND),
        [no('frontend', 'db', 'tcp/5432'), ok('db', 'frontend', 'tcp/80')]);
      const out = await explainText(m, 'tcp/5432');
      t.comment(out.trim());
      t.match(out, /tcp\/5432: DROPPED/, 'explain: dropped');
      t.match(out, /ingress of default\/db: dropped by global policy deny-frontend-cidr \(tier default\) rule 1 /, 'explain names deny-frontend-cidr as the deciding policy');
      await change(t, m, 'deny-frontend-cidr deleted', ['node-2'], () => m.driver.delete('GlobalNetworkPolicy', 'deny-frontend-cidr'),
        [ok('frontend', 'db', 'tcp/5432')]);
      t.match(await explainText(m, 'tcp/5432'), /ALLOWED[^]*allowed by policy default\/allow-db/, 'explain follows the deletion');
    });

    await t.test('a profile change takes effect on both hosts', async (t) => {
      await change(t, m, 'kns.default without egress rules', ['node-1', 'node-2'], () => m.driver.apply(KNS({ ingress: ALLOW_ALL.ingress })),
        [no('frontend', 'db', 'tcp/5432'), no('db', 'frontend', 'tcp/80'), no('other', 'frontend', 'icmp')]);
      await change(t, m, 'kns.default allows egress again', ['node-1', 'node-2'], () => m.driver.apply(KNS(ALLOW_ALL)),
        [ok('frontend', 'db', 'tcp/5432'), ok('db', 'frontend', 'tcp/80'), ok('other', 'frontend', 'icmp')]);
    });

    await t.test('policy changes apply while the BGP configuration of the node is rejected', async (t) => {
      // Without its Node resource node-2 keeps its last good BGP configuration (and node-1
      // drops the mesh peer, so cross-host traffic stops): the ACL must follow regardless.
      await m.driver.delete('Node', 'node-2');
      const h2 = m.terns.get('node-2')!;
      const rejected = async (): Promise<boolean> => (await h2.status()).daemon.errors.some((x) => /node-2 is not in the datastore/.test(x));
      await lab.waitFor(rejected, { what: 'node-2 rejects its configuration' });
      await change(t, m, 'deny-frontend-cidr added while node-2 has no Node resource', ['node-2'], () => m.driver.apply(DENY_FRONTEND), []);
      t.match(await ternTable(lab, 'node-2'), /chain tern-pi-deny-frontend-cidr /, 'node-2 enforces the new policy');
      t.ok(await rejected(), 'while its BGP configuration is still rejected');
      await m.driver.delete('GlobalNetworkPolicy', 'deny-frontend-cidr');
      await m.driver.apply(...baseDocs().filter((d) => d.kind === 'Node' && d.metadata.name === 'node-2'));
      await lab.waitFor(async () => !/tern-pi-deny-frontend-cidr/.test(await ternTable(lab, 'node-2')), { what: 'node-2: deny-frontend-cidr removed' });
    });

    await t.test("the operator's FORWARD rules survive updates and stop", async (t) => {
      t.equal(await m.operatorRules(), m.opBefore, 'unchanged after the updates');
      const tables = await Promise.all(NODES.map((n) => ternTable(lab, n.name)));
      for (const h of m.terns.values()) await h.stop();
      for (const h of m.terns.values()) t.equal((await h.proc.exited).code, 0, `${h.node}: daemon exited cleanly`);
      t.equal(await m.operatorRules(), m.opBefore, 'unchanged after the daemons stopped');
      for (const [i, n] of NODES.entries()) t.equal(await ternTable(lab, n.name), tables[i], `${n.name}: inet tern is left in place (as Felix does)`);
    });
  };
}

t.test('file datastore, edited live (replaced by rename)', scenario((lab, initial) => fileDriver(lab, initial)));
t.test('etcd datastore, tern apply / tern delete', scenario((lab, initial) => etcdDriver(lab, initial)));
