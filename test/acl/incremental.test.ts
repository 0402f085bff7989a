// The incremental model (incremental.ts) against the full build: along sequences of changes
// (rules, selectors, labels, new and removed pods, named ports, network sets, tiers, profile
// labels), a model built with a kept AclCache must render exactly the table, and hold the
// same endpoints, sets and problems, as one built from scratch; and a one-rule change, a new
// pod or a relabel must recompute only what depends on it.
import t, { type Test } from 'tap';
import { buildModel, modelSteps, type AclModel } from '../../src/acl/model.js';
import { AclCache, sameData } from '../../src/acl/incremental.js';
import { RenderCache, renderTable, tableScript } from '../../src/acl/render.js';
import { runSteps } from '../../src/acl/steps.js';
import type { Snapshot } from '../../src/model/types.js';
import { gnp, gns, netset, np, profile, snapshot, threePods, tier, wep, ALLOW_ALL } from './fixtures/resources.js';

function same(t: Test, cache: AclCache, rcache: RenderCache, s: Snapshot, node: string | undefined, what: string): AclModel {
  const inc = runSteps(modelSteps(s, node, undefined, cache));
  const full = buildModel(s, node);
  t.same(inc.endpoints, full.endpoints, `${what}: endpoints`);
  t.same(inc.problems, full.problems, `${what}: problems`);
  t.same([...inc.sets].sort(), [...full.sets].sort(), `${what}: member sets`);
  t.same([...inc.namedSets].sort(), [...full.namedSets].sort(), `${what}: named-port sets`);
  t.same([...inc.policies].sort(), [...full.policies].sort(), `${what}: policies`);
  t.equal(tableScript(renderTable(inc, {}, rcache)), tableScript(renderTable(full)), `${what}: rendered table`);
  return inc;
}

const ALLOW_DB = np('default', 'allow-db', {
  order: 100, selector: "role == 'db'", types: ['Ingress'],
  ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5432, 'pg'] } }],
});

t.test('a kept cache gives the same model and table as a full build, change after change', async (t) => {
  const cache = new AclCache();
  const rcache = new RenderCache();
  const sec = tier('security', { order: 100 });
  const deny = gnp('security.block', { tier: 'security', order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "role == 'other'" } }, { action: 'Pass' }] });
  const steps: [string, Snapshot][] = [
    ['start', threePods({ nps: [ALLOW_DB] })],
    ['policy port changed', threePods({ nps: [np('default', 'allow-db', { ...ALLOW_DB.spec, ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5433] } }] })] })],
    ['relabel other → frontend', threePods({ nps: [ALLOW_DB] }, { otherRole: 'frontend' })],
    ['named port appears', threePods({ nps: [ALLOW_DB] }, { otherRole: 'frontend', dbPorts: [{ name: 'pg', protocol: 'TCP', port: 5432 }] })],
    ['named port moves', threePods({ nps: [ALLOW_DB] }, { otherRole: 'frontend', dbPorts: [{ name: 'pg', protocol: 'TCP', port: 6432 }] })],
    ['tier and Pass', threePods({ nps: [ALLOW_DB], tiers: [sec], gnps: [deny] })],
    ['network sets', threePods({ nps: [ALLOW_DB], gnss: [gns('bad', { role: 'other' }, ['192.0.2.0/24'])], netsets: [netset('default', 'ns', { role: 'frontend' }, ['198.51.100.0/24'])] })],
    ['network set nets change', threePods({ nps: [ALLOW_DB], gnss: [gns('bad', { role: 'other' }, ['192.0.2.0/25'])] })],
    ['profile labels change', threePods({ nps: [ALLOW_DB], profiles: [] }, { dbProfiles: ['kns.default', 'extra'] })],
    ['extra profile with labels', threePods({ nps: [ALLOW_DB], profiles: [profile('extra', { ...ALLOW_ALL, labelsToApply: { role: 'frontend' } })] }, { dbProfiles: ['extra', 'kns.default'] })],
    ['policy removed', threePods({})],
    ['v6', threePods({ nps: [ALLOW_DB] }, { v6: true })],
  ];
  for (const node of ['host-b', undefined]) {
    for (const [what, s] of steps) same(t, cache, rcache, s, node, `${what} (node ${node ?? 'all'})`);
  }
});

/** n pods (the first `local` on node "me") and m policies over 10 apps in 4 namespaces. */
function cluster(opts: { pods?: number; relabel?: number; port?: number; drop?: number } = {}): Snapshot {
  const pods = opts.pods ?? 40;
  const endpoints = [];
  for (let i = 0; i < pods; i++) {
    if (i === opts.drop) continue;
    const ns = `ns${i % 4}`;
    endpoints.push(wep({ name: `p${i}`, ns, node: i < 12 ? 'me' : `n${i % 3}`, iface: `cali${String(i).padStart(4, '0')}`, ips: [`10.1.0.${i + 1}/32`], labels: { app: i === opts.relabel ? 'relabelled' : `a${i % 10}` }, profiles: [`kns.${ns}`] }));
  }
  const nps = [];
  for (let i = 0; i < 30; i++) {
    nps.push(np(`ns${i % 4}`, `np${i}`, {
      order: 10 + (i % 3), selector: `app == 'a${i % 10}'`, types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `app == 'a${(i + 1) % 10}'` }, destination: { ports: [i === 0 && opts.port ? opts.port : 80 + i] } }],
      egress: [{ action: 'Allow', destination: { selector: `app == 'a${(i + 2) % 10}'` } }],
    }));
  }
  const gnps = [gnp('all', { order: 1, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "app == 'a3'" } }, { action: 'Pass', source: { selector: 'has(app)' } }] })];
  const profiles = [0, 1, 2, 3].map((n) => profile(`kns.ns${n}`, { ...ALLOW_ALL, labelsToApply: { 'pcns.projectcalico.org/name': `ns${n}` } }));
  return snapshot({ revision: 1, endpoints, profiles, gnps, nps, tiers: [], gnss: [], netsets: [], nodes: [] });
}

t.test('only what a change touches is recomputed', async (t) => {
  const cache = new AclCache();
  const rcache = new RenderCache();
  same(t, cache, rcache, cluster(), 'me', 'start');
  same(t, cache, rcache, cluster({ port: 9999 }), 'me', 'one rule changed');
  t.same(cache.stats, { entitiesChanged: 0, setsBuilt: 0, policiesCompiled: 1, plansComputed: 0 }, 'one rule: one policy compiled, nothing else');
  same(t, cache, rcache, cluster({ port: 9999, pods: 41 }), 'me', 'new remote pod');
  t.equal(cache.stats.entitiesChanged, 1);
  t.equal(cache.stats.plansComputed, 0, 'a remote pod needs no plan');
  t.ok(cache.stats.policiesCompiled <= 6, `policies naming its sets recompiled (${cache.stats.policiesCompiled})`);
  same(t, cache, rcache, cluster({ port: 9999, pods: 41, relabel: 5 }), 'me', 'local relabel');
  t.equal(cache.stats.plansComputed, 1, 'a local relabel computes one plan');
  same(t, cache, rcache, cluster({ port: 9999, pods: 41, relabel: 5, drop: 7 }), 'me', 'local pod removed');
  same(t, cache, rcache, cluster(), 'me', 'back to the start');
});

t.test('sameData: structural equality with absent = undefined', async (t) => {
  t.ok(sameData({ a: [1, { b: 'x' }], c: undefined }, { a: [1, { b: 'x' }] }));
  t.notOk(sameData({ a: [1, 2] }, { a: [1, 2, 3] }));
  t.notOk(sameData({ a: 1 }, { a: '1' }));
  t.notOk(sameData([1], { 0: 1 }));
  t.notOk(sameData({ a: null }, { a: undefined }));
});
