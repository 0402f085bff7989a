// render.ts is pure: a fixed model renders to a fixed nft script (kept in
// test/acl/fixtures/render-host-b.nft; regenerate with TERN_UPDATE_SNAPSHOTS=1 and review the
// diff), set-only changes become incremental element updates, names are safe identifiers.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../../src/acl/model.js';
import { elementDiffScript, nftName, renderTable, tableScript } from '../../src/acl/render.js';
import { summarizeDesired } from '../../src/acl/nft.js';
import { gnp, np, snapshot, threePods, wep } from './fixtures/resources.js';

const EXPECTED = fileURLToPath(new URL('./fixtures/render-host-b.nft', import.meta.url));

const POLICIES = {
  nps: [np('default', 'allow-db', {
    order: 100, selector: "role == 'db'", types: ['Ingress'],
    ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'frontend'" }, destination: { ports: [5432, '8000:8080'] } }],
  })],
  gnps: [gnp('egress-guard', {
    order: 10, selector: 'all()', types: ['Egress'],
    egress: [
      { action: 'Deny', destination: { nets: ['192.0.2.0/24', '2001:db8::/32'] } },
      { action: 'Pass', protocol: 'ICMP', icmp: { type: 8 } },
      { action: 'Log', ipVersion: 6 },
      { action: 'Allow', protocol: 'ICMPv6', notICMP: { type: 128, code: 0 } },
      { action: 'Allow', protocol: 'UDP', source: { notPorts: [53] }, destination: { notSelector: "role == 'other'" } },
    ],
  })],
};

t.test('fixed input renders to the reviewed script', async (t) => {
  const script = tableScript(renderTable(buildModel(threePods(POLICIES), 'host-b')));
  if (process.env.TERN_UPDATE_SNAPSHOTS) writeFileSync(EXPECTED, script);
  t.equal(script, readFileSync(EXPECTED, 'utf8'));
  t.match(script, /chain tern-from-wl \{\n\t\ttype filter hook forward priority filter \+ 10; policy accept;/);
  t.match(script, /map tern-to-wl-dispatch \{\n\t\ttype ifname : verdict\n\t\telements = \{ "calib0000001" : jump tern-tw-calib0000001 \}/);
  t.notMatch(script, /calia0000001/, 'endpoints of other nodes get no chains');
  t.match(script, /elements = \{ 10\.65\.0\.1\/32 \}/, 'but are members of selector sets');
});

t.test('same model, any insertion order → same text', async (t) => {
  const a = threePods(POLICIES);
  const b = snapshot({
    endpoints: [...a.workloadEndpoints.values()].reverse(),
    profiles: [...a.profiles.values()].reverse(),
    gnps: [...a.globalNetworkPolicies.values()].reverse(),
    nps: [...a.networkPolicies.values()].reverse(),
  });
  t.equal(tableScript(renderTable(buildModel(b, 'host-b'))), tableScript(renderTable(buildModel(a, 'host-b'))));
});

t.test('pass mark only where a Pass rule can set it', async (t) => {
  const script = tableScript(renderTable(buildModel(threePods({ nps: POLICIES.nps }), 'host-b')));
  t.notMatch(script, /meta mark/);
});

t.test('set-only change is an incremental transaction; structural change is not', async (t) => {
  const base = threePods(POLICIES);
  const prev = renderTable(buildModel(base, 'host-b'));
  const more = snapshot({
    endpoints: [...base.workloadEndpoints.values(), wep({ name: 'fe2', node: 'host-a', iface: 'calia0000009', ips: ['10.65.0.9/32'], labels: { role: 'frontend' }, profiles: ['kns.default'] })],
    profiles: [...base.profiles.values()], gnps: POLICIES.gnps, nps: POLICIES.nps,
  });
  const next = renderTable(buildModel(more, 'host-b'));
  const diff = elementDiffScript(prev, next);
  t.match(diff, /^add element inet tern tern-s4-[0-9a-f]{16} \{ 10\.65\.0\.9\/32 \}\n$/);
  t.equal(elementDiffScript(next, prev)?.startsWith('delete element inet tern tern-s4-'), true);
  t.equal(elementDiffScript(prev, prev), '');
  const local = snapshot({
    endpoints: [...base.workloadEndpoints.values(), wep({ name: 'db2', node: 'host-b', iface: 'calib0000002', ips: ['10.65.1.2/32'], labels: { role: 'db' } })],
    profiles: [...base.profiles.values()], gnps: POLICIES.gnps, nps: POLICIES.nps,
  });
  t.equal(elementDiffScript(prev, renderTable(buildModel(local, 'host-b'))), null, 'new local endpoint: new chains');
});

t.test('summary of the desired table', async (t) => {
  const s = summarizeDesired(renderTable(buildModel(threePods(POLICIES), 'host-b')));
  t.same(s.hooks, { 'tern-from-wl': '+10', 'tern-to-wl': '+11', 'tern-wl-to-host': '+10' });
  t.equal(s.chains['tern-tw-calib0000001'], 4);
  t.same(s.maps['tern-from-wl-dispatch'], ['calib0000001:tern-fw-calib0000001']);
});

t.test('long keys: names ≤ 200 characters, comments ≤ 128 (nft refuses longer)', async (t) => {
  const long = `p-${'x'.repeat(240)}`;
  const script = tableScript(renderTable(buildModel(threePods({ gnps: [gnp(long, { selector: "role == 'db'", ingress: [{ action: 'Log' }] })] }), 'host-b')));
  for (const m of script.matchAll(/comment "([^"]*)"/g)) t.ok(m[1]!.length <= 128, `comment of ${m[1]!.length} characters`);
  for (const m of script.matchAll(/chain (\S+) \{/g)) t.ok(m[1]!.length <= 200, `chain name of ${m[1]!.length} characters`);
  for (const m of script.matchAll(/log prefix "([^"]*)"/g)) t.ok(m[1]!.length <= 127, 'log prefix fits');
});

t.test('nft names', async (t) => {
  t.equal(nftName('tern-pi', 'default/allow-db'), 'tern-pi-default_allow-db');
  t.equal(nftName('tern-pri', 'kns.default'), 'tern-pri-kns.default');
  t.match(nftName('tern-pi', 'we ird"name'), /^tern-pi-we_ird_name-[0-9a-f]{8}$/);
  t.not(nftName('tern-pi', 'a b'), nftName('tern-pi', 'a_b'), 'sanitized names stay unique');
});

t.test('incremental transaction: only changed chains, new and removed objects', async (t) => {
  const { incrementalScript } = await import('../../src/acl/diff.js');
  const base = threePods(POLICIES);
  const prev = renderTable(buildModel(base, 'host-b'));
  t.equal(incrementalScript(prev, prev), '', 'no change, no script');
  const changedRule = threePods({ ...POLICIES, nps: [np('default', 'allow-db', { order: 100, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [5433] } }] })] });
  const next = renderTable(buildModel(changedRule, 'host-b'));
  const script = incrementalScript(prev, next)!;
  t.match(script, /^flush chain inet tern tern-pi-default_allow-db$/m, 'the changed policy chain is rewritten');
  t.notMatch(script, /tern-tw-calib0000001/, 'the endpoint chain is untouched');
  t.match(script, /^delete set inet tern tern-s4-/m, 'the selector set no rule uses any more goes');
  const local = snapshot({
    endpoints: [...base.workloadEndpoints.values(), wep({ name: 'db2', node: 'host-b', iface: 'calib0000002', ips: ['10.65.1.2/32'], labels: { role: 'db' }, profiles: ['kns.default'] })],
    profiles: [...base.profiles.values()], gnps: POLICIES.gnps, nps: POLICIES.nps,
  });
  const pod = incrementalScript(prev, renderTable(buildModel(local, 'host-b')))!;
  t.match(pod, /^add chain inet tern tern-tw-calib0000002 \{ comment "WorkloadEndpoint default\/db2 ingress"; \}$/m, 'new pod: its chains');
  t.match(pod, /^add element inet tern tern-to-wl-dispatch \{ "calib0000002" : jump tern-tw-calib0000002 \}$/m);
  t.notMatch(pod, /flush chain inet tern tern-pi-/, 'no policy chain rewritten for a new pod');
  t.equal(incrementalScript(prev, renderTable(buildModel(base, 'host-b'), { priority: 20 })), null, 'a hook change is a full replace');
});

t.test('long tier lists share chunk chains across endpoints', async (t) => {
  const many = Array.from({ length: 40 }, (_, i) => gnp(`g${String(i).padStart(2, '0')}`, { order: i, selector: 'all()', ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [1000 + i] } }] }));
  const own = np('default', 'own-db', { order: 100, selector: "role == 'db'", ingress: [{ action: 'Deny' }] });
  const s = snapshot({
    endpoints: [
      wep({ name: 'db', node: 'n', iface: 'cali1', ips: ['10.0.0.1/32'], labels: { role: 'db' } }),
      wep({ name: 'web', node: 'n', iface: 'cali2', ips: ['10.0.0.2/32'], labels: { role: 'web' } }),
    ],
    gnps: many, nps: [own],
  });
  const table = renderTable(buildModel(s, 'n'));
  const chunks = table.chains.filter((c) => c.name.startsWith('tern-ci-'));
  const groups = table.chains.filter((c) => c.name.startsWith('tern-gi-'));
  t.equal(groups.length, 2, 'two distinct tier lists');
  t.equal(chunks.length, 4, '40 shared policies = 2 full chunks + 2 different tails (8, and 8 + own-db)');
  t.same(groups[0]!.rules.filter((r) => r.startsWith('jump')).length, 3);
});
