// Route priority in a cluster mixing tern and calico-node v3.32. calico-node v3.32 carries a
// route's priority (kernel metric) in LOCAL_PREF as 2147483647 − priority: its own blocks and
// service CIDRs go out at 2147483647 − N (N = ipv4NormalRoutePriority, default 1024), BGPFilter
// `setPriority` / `priority` set and match that value, and a BGP route goes into the kernel
// with metric 2147483647 − LOCAL_PREF (preference 200 when that is below N). One AS on one
// segment 10.78.0.0/24:
//   T  10.78.0.10  tern, block 10.244.1.0/26
//   C  10.78.0.11  calico-node v3.32 stand-in (BIRD 2 running the file confd renders,
//                  lab/calico-bird.ts calicoVersion 'v3.32'), block 10.244.2.0/26
//   O  10.78.0.20  observer: BIRD 2 announcing nothing, a Global BGPPeer of both nodes,
//                  with `merge paths` into its kernel
// Both nodes announce the service CIDR 10.96.0.0/12 (serviceClusterIPs). T and C mesh; for
// the BGPFilter step the mesh gives way to a BGPPeer between the nodes (nodeSelector all(),
// peerSelector all()) that carries the filter, because mesh sessions never run BGPFilters (in
// confd as in tern), so that C receives what the filter does to T's routes.
// What is checked: (a) O gets each node's block at 2147482623; (b) O gets the service CIDR
// from T and from C at the same LOCAL_PREF, and multipaths it in its kernel; (e) C installs
// T's block with metric 2147483647 − the LOCAL_PREF it holds; (c) ipv4NormalRoutePriority
// 2000, live in T's datastore and by re-rendering C: both send 2147481647, and 2147482623 again
// once the field is removed; (d) a BGPFilter with `setPriority` on T's block and a `priority`
// match on the service CIDR changes what O and C receive from T the same way C's rendering does;
// (f) workload routes inside the blocks: an elevated one (metric 512) leaves T as a /32; one at
// metric 0 (Felix before v3.32) stays inside T's block, where C's BIRD sends it.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico, calicoYaml } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { spawnBird, type BirdProcess } from '../../lab/bird.js';
import { priorityToLocalPref, renderCalicoBirdCfg, type CalicoBgpFilter, type CalicoBirdNode } from '../../lab/calico-bird.js';
import { parseBirdRoutes, startBird, type BirdHandle, type BirdRoute } from '../helpers/peers-bird.js';
import { retry } from '../helpers/peers-common.js';
import { startTern, type TernHandle } from '../helpers/tern.js';

const AS = 64512;
const T = { name: 'node-t', ip: '10.78.0.10', block: '10.244.1.0/26' };
const C = { name: 'calico-c', ip: '10.78.0.11', block: '10.244.2.0/26' };
const O = { ip: '10.78.0.20' };
const POOL = '10.244.0.0/16';
const SVC = '10.96.0.0/12';
const N2 = 2000;
/** T's block raised to Felix's elevated priority; the service CIDR (at N2) moved to 900. */
const T_BLOCK_PRIORITY = 512;
const SVC_PRIORITY = 900;
const FILTER: CalicoBgpFilter = {
  name: 'prio',
  spec: {
    exportV4: [
      { action: 'Accept', cidr: T.block, matchOperator: 'Equal', operations: [{ setPriority: { value: T_BLOCK_PRIORITY } }] },
      { action: 'Accept', cidr: SVC, matchOperator: 'Equal', priority: N2, operations: [{ setPriority: { value: SVC_PRIORITY } }] },
    ],
  },
};

/** The cluster as both nodes read it. */
interface State { normal?: number; filter?: boolean }

function yaml(s: State): string {
  const filters = s.filter ? { filters: [FILTER.name] } : {};
  return calicoYaml(
    calico.bgpConfiguration({
      asNumber: AS, nodeToNodeMeshEnabled: !s.filter, logSeverityScreen: 'Info', serviceClusterIPs: [{ cidr: SVC }],
      ...(s.normal !== undefined ? { ipv4NormalRoutePriority: s.normal } : {}),
    }),
    calico.ipPool('default-ipv4-ippool', POOL, { ipipMode: 'Never', natOutgoing: true }),
    calico.node(T.name, { ipv4Address: `${T.ip}/24` }),
    calico.node(C.name, { ipv4Address: `${C.ip}/24` }),
    calico.blockAffinity(T.name, T.block),
    calico.blockAffinity(C.name, C.block),
    calico.bgpPeer('observer', { peerIP: O.ip, asNumber: AS, ...filters }),
    ...(s.filter ? [
      calico.bgpPeer('nodes', { nodeSelector: 'all()', peerSelector: 'all()', ...filters }),
      calico.bgpFilter(FILTER.name, { ...FILTER.spec }),
    ] : []),
  );
}

/** C's bird.cfg for the same cluster, as confd v3.32 renders it. */
function cBirdCfg(s: State): string {
  const node: CalicoBirdNode = {
    ip: C.ip, asNumber: AS, blocks: [C.block], pools: [POOL], serviceClusterIPs: [SVC], calicoVersion: 'v3.32',
    ...(s.normal !== undefined ? { normalRoutePriority: s.normal } : {}),
    meshPeers: s.filter ? [] : [T.ip],
    peers: [
      { scope: 'Global', ip: O.ip, asNumber: AS, ...(s.filter ? { filters: [FILTER.name] } : {}) },
      ...(s.filter ? [{ scope: 'Node' as const, ip: T.ip, asNumber: AS, filters: [FILTER.name] }] : []),
    ],
    bgpFilters: [FILTER],
  };
  return renderCalicoBirdCfg(node);
}

const lab = createLab(t, { area: 'prlab' });
let ds: { spec: string; path: string };
let tern: TernHandle;
let cBird: BirdProcess;
let observer: BirdHandle;

/** Moves the cluster to `s`: T's datastore rewritten (tern follows it live), C re-rendered and reconfigured. */
async function setState(s: State): Promise<void> {
  writeFileSync(ds.path, yaml(s));
  writeFileSync(cBird.configFile, cBirdCfg(s));
  await lab.exec(C.name, 'bird', ['-p', '-c', cBird.configFile]);
  await cBird.birdc('configure');
}

/** Polls `read` until `ok` holds or the time is up; the last value either way (the test asserts it). */
async function settle<V>(read: () => Promise<V>, ok: (v: V) => boolean, timeoutMs = 20_000): Promise<V> {
  let last = await read();
  const end = Date.now() + timeoutMs;
  while (!ok(last) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

/** LOCAL_PREF of each path the observer holds for `prefix`, by the node it came from. */
async function observerPrefs(prefix: string): Promise<{ T?: number; C?: number }> {
  const rs = (await observer.routes()).filter((r) => r.prefix === prefix);
  const pref = (from: string) => rs.find((r) => r.protocol === from)?.localPref;
  const out: { T?: number; C?: number } = {};
  const tp = pref('T');
  const cp = pref('C');
  if (tp !== undefined) out.T = tp;
  if (cp !== undefined) out.C = cp;
  return out;
}

/**
 * C's view of T's block: the LOCAL_PREF its BIRD holds, BIRD's preference, and the metric BIRD
 * wrote into the kernel: the Kernel.metric it exports, when the kernel has a route at it. (BIRD 2
 * changes an IPv4 kernel route with NLM_F_REPLACE, which with another metric adds a second
 * route and leaves the first; calico-node's BIRD 1 deletes the old one first. So the kernel may
 * also hold T's block at an earlier metric; the check is on what C's rendering exports.)
 */
async function cViewOfTBlock(): Promise<{ localPref?: number; preference?: number; metric?: number }> {
  const held = (await cBird.birdc('show', 'route', 'for', T.block, 'all'));
  const r: BirdRoute | undefined = parseBirdRoutes(held).find((x) => x.prefix === T.block && x.primary);
  const exported = parseBirdRoutes(await cBird.birdc('show', 'route', 'for', T.block, 'export', 'kernel1', 'all'))
    .find((x) => x.prefix === T.block)?.attrs['Kernel.metric'];
  const inKernel = (await lab.ipJson<Array<{ dst: string; metric?: number }>>(C.name, 'route', 'show', 'table', 'main', T.block))
    .filter((x) => x.dst === T.block).map((x) => x.metric ?? 0);
  const metric = exported === undefined ? undefined : Number(exported);
  return {
    ...(r?.localPref !== undefined ? { localPref: r.localPref } : {}),
    ...(r ? { preference: r.preference } : {}),
    ...(metric !== undefined && inKernel.includes(metric) ? { metric } : {}),
  };
}

t.before(async () => {
  await segment(lab, 'fabric', { [T.name]: { v4: `${T.ip}/24`, ifName: 'eth0' }, [C.name]: { v4: `${C.ip}/24`, ifName: 'eth0' }, observer: `${O.ip}/24` });
  ds = fileDatastore(lab, [yaml({})]);
  tern = await startTern(lab, T.name, { datastore: ds.spec, node: T.name, ip: `${T.ip}/24` });
  cBird = await spawnBird(lab, C.name, cBirdCfg({}), { recovery: true });
  await retry(lab, 'C BIRD control socket', () => cBird.birdc('show', 'status'));
  observer = await startBird(lab, 'observer', {
    routerId: O.ip, asn: AS, kernelExport: true,
    neighbors: [{ address: T.ip, asn: AS, name: 'T' }, { address: C.ip, asn: AS, name: 'C' }],
  });
  await observer.waitEstablished(undefined, 60_000);
  await tern.waitPeers([C.ip, O.ip], 'Established', 60_000);
});

const NORMAL_LP = priorityToLocalPref(1024); // 2147482623

t.test('(a) each node\'s block reaches the observer with LOCAL_PREF 2147483647 − 1024', async (t) => {
  t.equal(NORMAL_LP, 2147482623);
  const tb = await settle(() => observerPrefs(T.block), (v) => v.T === NORMAL_LP);
  const cb = await settle(() => observerPrefs(C.block), (v) => v.C === NORMAL_LP);
  t.same(cb, { C: NORMAL_LP }, `C's block ${C.block}, from C only`);
  t.same(tb, { T: NORMAL_LP }, `T's block ${T.block}, from T only`);
});

t.test('(b) the service CIDR: a path from each node at the same LOCAL_PREF, multipath in the observer\'s kernel', async (t) => {
  const svc = await settle(() => observerPrefs(SVC), (v) => v.T === NORMAL_LP && v.C === NORMAL_LP);
  t.same(svc, { T: NORMAL_LP, C: NORMAL_LP }, 'two paths, equal LOCAL_PREF');
  const hops = await settle(async () => {
    const r = (await lab.ipJson<Array<{ dst: string; gateway?: string; nexthops?: Array<{ gateway: string }> }>>('observer', 'route', 'show', SVC))[0];
    return (r?.nexthops?.map((h) => h.gateway) ?? (r?.gateway ? [r.gateway] : [])).sort();
  }, (v) => v.length === 2);
  t.same(hops, [T.ip, C.ip].sort(), 'the observer\'s kernel spreads the service CIDR over T and C');
});

t.test('(e) C installs T\'s block with metric 2147483647 − the LOCAL_PREF it holds', async (t) => {
  const v = await settle(cViewOfTBlock, (x) => x.localPref === NORMAL_LP && x.metric === 1024);
  t.equal(v.metric, priorityToLocalPref(v.localPref ?? 0), `kernel metric ${v.metric} from LOCAL_PREF ${v.localPref} (C's rendering)`);
  t.equal(v.localPref, NORMAL_LP, 'T sent its block at the normal priority');
  t.equal(v.preference, 100, 'not above the normal priority: BIRD\'s BGP preference stays');
});

t.test('(c) ipv4NormalRoutePriority 2000: both nodes send 2147483647 − 2000', async (t) => {
  await setState({ normal: N2 });
  const lp = priorityToLocalPref(N2);
  t.equal(lp, 2147481647);
  const both = (v: { T?: number; C?: number }) => v.T === lp && v.C === lp;
  t.same(await settle(() => observerPrefs(SVC), both), { T: lp, C: lp }, 'service CIDR from both');
  t.same(await settle(() => observerPrefs(C.block), (v) => v.C === lp), { C: lp }, 'C\'s block');
  t.same(await settle(() => observerPrefs(T.block), (v) => v.T === lp), { T: lp }, 'T\'s block');
  const c = await settle(cViewOfTBlock, (x) => x.localPref === lp && x.metric === N2);
  t.same(c, { localPref: lp, preference: 100, metric: N2 }, 'C installs T\'s block with metric 2000');
  await setState({});
  t.same(await settle(() => observerPrefs(SVC), (v) => v.T === NORMAL_LP && v.C === NORMAL_LP), { T: NORMAL_LP, C: NORMAL_LP },
    'the field removed: the service CIDR back at 2147483647 − 1024 from both');
  t.same(await settle(() => observerPrefs(T.block), (v) => v.T === NORMAL_LP), { T: NORMAL_LP }, 'and T\'s block');
});

t.test('(f) workload routes inside a block: only one at an elevated priority leaves; metric 0 stays in on T, not on C', async (t) => {
  // Felix v3.32 writes workload routes at 1024 (512 while a VM migrates here); Felix before
  // v3.32 and the CNI plugin write IPv4 ones at metric 0, which BIRD reads as krt_metric 0.
  await lab.addPod(T.name, 'tzero', '10.244.1.5', { metric: 0 });
  await lab.addPod(T.name, 'tup', '10.244.1.6', { metric: 512 });
  await lab.addPod(T.name, 'tnormal', '10.244.1.7', { metric: 1024 });
  await lab.addPod(C.name, 'czero', '10.244.2.5', { metric: 0 });
  const elevated = priorityToLocalPref(512);
  t.same(await settle(() => observerPrefs('10.244.1.6/32'), (v) => v.T === elevated), { T: elevated },
    'T sends the elevated /32 at 2147483647 − 512');
  t.same(await settle(() => observerPrefs('10.244.2.5/32'), (v) => v.C === priorityToLocalPref(0)), { C: priorityToLocalPref(0) },
    'C (BIRD) sends the metric-0 /32 out of its block, at 2147483647');
  const held = (await observer.routes()).map((r) => r.prefix);
  t.notOk(held.includes('10.244.1.5/32'), 'T keeps its metric-0 workload route inside the block');
  t.notOk(held.includes('10.244.1.7/32'), 'and the one at the normal priority');
});

t.test('(d) BGPFilter setPriority and priority: what the observer and C receive from T', async (t) => {
  await setState({ normal: N2, filter: true });
  await tern.waitPeer(C.ip, 'Established', 60_000);
  const elevated = priorityToLocalPref(T_BLOCK_PRIORITY); // 2147483135
  const svcLp = priorityToLocalPref(SVC_PRIORITY); // 2147482747
  t.same(await settle(() => observerPrefs(T.block), (v) => v.T === elevated), { T: elevated },
    `T's block at setPriority ${T_BLOCK_PRIORITY}`);
  t.same(await settle(() => observerPrefs(SVC), (v) => v.T === svcLp && v.C === svcLp), { T: svcLp, C: svcLp },
    `service CIDR matched by priority ${N2}, set to ${SVC_PRIORITY}, from T and from C alike`);
  t.same(await settle(() => observerPrefs(C.block), (v) => v.C === priorityToLocalPref(N2)), { C: priorityToLocalPref(N2) },
    'C\'s block: no rule, the normal priority');
  const c = await settle(cViewOfTBlock, (x) => x.localPref === elevated && x.metric === T_BLOCK_PRIORITY);
  t.same(c, { localPref: elevated, preference: 200, metric: T_BLOCK_PRIORITY },
    'C receives T\'s block elevated: preference 200, kernel metric 512');
});
