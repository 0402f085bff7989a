// The FIB's fallback sockets as the bundle runs them: where Node's pipe_wrap binding is missing
// (here hidden by a preload), route writes and dumps go through npm netlink's RawNetlinkSocket,
// loaded on first use from the bundle with its binding loaded directly
// (src/runtime/netlink-raw.ts, netlink-binding.ts), and notifications are awaited on the poll
// thread. Two nodes, one of them on the fallback: each kernel gets the other's block.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createLab } from '../../lab/netns.js';
import { calico } from '../../lab/calico-resources.js';
import { fileDatastore, segment } from '../../lab/fixture.js';
import { startTern } from '../helpers/tern.js';

const lab = createLab(t, { area: 'fibfb' });

t.test('a node without pipe_wrap writes and learns routes through netlink\'s raw layer', async (t) => {
  await segment(lab, 'fab', { 'node-1': { v4: '10.203.0.1/24', ifName: 'eth0' }, 'node-2': { v4: '10.203.0.2/24', ifName: 'eth0' } });
  const { spec: ds } = fileDatastore(lab, [
    calico.bgpConfiguration({ asNumber: 64512 }),
    calico.ipPool('pool', '10.250.0.0/16', { ipipMode: 'Never', vxlanMode: 'Never' }),
    calico.node('node-1', { ipv4Address: '10.203.0.1/24' }), calico.node('node-2', { ipv4Address: '10.203.0.2/24' }),
    calico.blockAffinity('node-1', '10.250.1.0/26'), calico.blockAffinity('node-2', '10.250.2.0/26'),
  ]);
  const hide = lab.path('hide-pipe-wrap.cjs');
  writeFileSync(hide, `const b = process.binding;\nprocess.binding = function (name) { if (name === 'pipe_wrap') throw new Error('hidden by the test'); return b.apply(this, arguments); };\n`);
  const n1 = await startTern(lab, 'node-1', { datastore: ds, node: 'node-1', logLevel: 'info' });
  const n2 = await startTern(lab, 'node-2', { datastore: ds, node: 'node-2', logLevel: 'info', env: { NODE_OPTIONS: `--require ${hide}` } });
  await n1.waitPeer('10.203.0.2');
  await n2.waitPeer('10.203.0.1');
  const route = (host: string, prefix: string) => lab.waitFor(async () => {
    const out = (await lab.exec(host, 'ip', ['-4', 'route', 'show', prefix, 'proto', 'bird'])).stdout.trim();
    return out.includes('via') ? out : null;
  }, { what: `${prefix} in ${host}'s kernel`, timeoutMs: 20_000 });
  t.match(await route('node-2', '10.250.1.0/26'), /via 10\.203\.0\.1 dev eth0/, 'node-2 (fallback) wrote node-1\'s block');
  t.match(await route('node-1', '10.250.2.0/26'), /via 10\.203\.0\.2 dev eth0/, 'node-1 wrote node-2\'s block');
  t.match(n2.proc.log(), /kernel notifications: read by a poll thread/, 'node-2 ran the fallback');
  t.match(n1.proc.log(), /kernel notifications: read by the event loop/, 'node-1 did not');
  t.ok(n1.proc.running() && n2.proc.running(), 'both daemons still run');
});
