// Real kernel: restart adoption, unreachable next hops, a missing tunl0, IPv6 ECMP.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Netns, canUseNetns, waitFor } from './fixtures/netns-helpers.js';

const skip = canUseNetns();
const never = { cidr: '10.244.0.0/16', ipipMode: 'never', vxlanMode: 'never' };
const always = { cidr: '10.245.0.0/16', ipipMode: 'always', vxlanMode: 'never' };
const v6pool = { cidr: 'fd00:10:244::/48', ipipMode: 'never', vxlanMode: 'never' };
const pools = [never, always, v6pool];

function namespace(t: Test, opts: { tunl0?: boolean } = {}): Netns {
  const ns = new Netns(opts);
  t.teardown(() => ns.destroy());
  return ns;
}

async function agent(t: Test, ns: Netns, staleTimeMs?: number): Promise<Agent> {
  const a = new Agent(ns, staleTimeMs);
  t.teardown(() => a.stop());
  await a.call('setPools', pools, '10.0.0.11/24');
  return a;
}

type Stats = { replaced: number; removed: number; failed: number };

t.test('real kernel', { skip }, async (t) => {
  t.test('restart: stop leaves routes; the next run adopts them and sweeps the stale ones', async (t) => {
    const ns = namespace(t, { tunl0: true });
    const first = await agent(t, ns);
    await first.call('start');
    await first.call('setOwnBlocks', ['10.244.1.0/26']);
    await first.call('setRoute', '10.244.20.0/26', ['10.0.0.20']);
    await first.call('setRoute', '10.244.21.0/26', ['10.0.0.21']);
    await first.flush();
    await first.stop();
    t.same(ns.routes('-4', 'proto', 'bird').map((r) => r.dst).sort(), ['10.244.1.0/26', '10.244.20.0/26', '10.244.21.0/26'], 'routes stay after stop');

    // a stale time long enough for the calls below to run inside the window on a busy machine
    const second = await agent(t, ns, 5000);
    await second.call('setOwnBlocks', ['10.244.1.0/26']);
    await second.call('start');
    await second.call('setRoute', '10.244.20.0/26', ['10.0.0.20']);
    await second.flush();
    t.same(ns.routes('-4', 'proto', 'bird').map((r) => r.dst).sort(), ['10.244.1.0/26', '10.244.20.0/26', '10.244.21.0/26'], 'adopted, kept during the window');
    t.same(await second.call<Stats>('stats'), { replaced: 0, removed: 0, failed: 0, installed: 2, learned: 0 }, 'identical routes are not rewritten');
    await waitFor(() => ns.route('10.244.21.0/26').length === 0, 'stale sweep', 20000);
    t.same(ns.routes('-4', 'proto', 'bird').map((r) => r.dst).sort(), ['10.244.1.0/26', '10.244.20.0/26'], 'only the stale route removed');
    t.same(second.learned, [], 'own block found at start is ours, not learned');
  });

  t.test('endOfRibAll sweeps at once', async (t) => {
    const ns = namespace(t);
    ns.ip('route', 'add', '10.244.22.0/26', 'via', '10.0.0.22', 'proto', 'bird');
    const a = await agent(t, ns);
    await a.call('start');
    await a.flush();
    t.equal(ns.route('10.244.22.0/26').length, 1);
    await a.call('endOfRibAll');
    await a.flush();
    t.same(ns.route('10.244.22.0/26'), []);
  });

  t.test('unreachable next hop: status error, no crash, installed once a connected route appears', async (t) => {
    const ns = namespace(t);
    const a = await agent(t, ns);
    await a.call('start');
    await a.call('setRoute', '10.244.30.0/26', ['10.9.9.9']);
    await a.flush();
    t.match(await a.call('status', '10.244.30.0/26'), { state: 'error', code: 'ERR_FIB_NEXTHOP_UNREACHABLE' });
    t.same(ns.route('10.244.30.0/26'), []);
    ns.ip('addr', 'add', '10.9.9.1/24', 'dev', 'eth0');
    await waitFor(() => ns.route('10.244.30.0/26').length === 1, 'route after the connected route appeared');
    t.same(ns.route('10.244.30.0/26').map((r) => [r.gateway, r.dev, r.protocol]), [['10.9.9.9', 'eth0', 'bird']]);
    t.same(await a.call('status', '10.244.30.0/26'), { state: 'installed' });
  });

  t.test('tunl0 missing: pending with an error, installed when the link is created', async (t) => {
    const ns = namespace(t, { tunl0: false });
    const a = await agent(t, ns);
    await a.call('start');
    await a.call('setRoute', '10.245.2.0/26', ['10.0.0.12']);
    await a.flush();
    t.match(await a.call('status', '10.245.2.0/26'), { state: 'pending', code: 'ERR_FIB_TUNNEL_MISSING', error: 'tunl0 missing' });
    t.same(await a.call('errors'), ['tunl0 missing (1 route pending)']);
    ns.addTunl0();
    await waitFor(() => ns.route('10.245.2.0/26').length === 1, 'route via the new tunl0');
    const r = ns.route('10.245.2.0/26')[0]!;
    t.same([r.gateway, r.dev, r.protocol, r.flags], ['10.0.0.12', 'tunl0', 'bird', ['onlink']]);
    t.same(await a.call('errors'), []);
    // link down: the kernel flushes the route silently; it comes back with the link
    ns.ip('link', 'set', 'tunl0', 'down');
    await waitFor(async () => ((await a.call<{ code?: string }>('status', '10.245.2.0/26')).code === 'ERR_FIB_TUNNEL_DOWN'), 'pending on tunl0 down');
    ns.ip('link', 'set', 'tunl0', 'up');
    await waitFor(() => ns.route('10.245.2.0/26').length === 1, 'route back after tunl0 up');
  });

  t.test('the notification socket overruns: ENOBUFS seen, the kernel re-read, missed changes repaired', async (t) => {
    const ns = namespace(t);
    // a small receive buffer (SO_RCVBUFFORCE 64 KiB) so a few thousand notifications overrun it
    const a = new Agent(ns, 120000, 64 * 1024);
    t.teardown(() => a.stop());
    await a.call('setPools', pools, '10.0.0.11/24');
    await a.call('start');
    await a.call('setOwnBlocks', ['10.244.1.0/26']);
    await a.flush();
    t.equal(ns.route('10.244.1.0/26').length, 1);
    t.equal(await a.call('notificationsLost'), 0, 'no overrun yet');
    // the agent's loop is blocked while 4 000 foreign routes are added, then our blackhole is
    // deleted: its notification is behind an overrun. Blocked from before the first foreign
    // write until after the last (marker files), however slowly either side runs.
    const dir = mkdtempSync(join(tmpdir(), 'tern-fib-busy-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const busy = a.call('busyUntil', join(dir, 'started'), join(dir, 'release'));
    await waitFor(() => existsSync(join(dir, 'started')), 'the agent\'s loop blocked');
    const batch = Array.from({ length: 4000 }, (_, i) => `route add blackhole 10.250.${i >> 6}.${(i & 63) * 4}/30 proto static`).join('\n');
    execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: batch + '\n' });
    ns.ip('route', 'del', 'blackhole', '10.244.1.0/26', 'proto', 'bird');
    writeFileSync(join(dir, 'release'), '');
    await busy;
    await waitFor(() => ns.route('10.244.1.0/26').length === 1, 'blackhole repaired after the overrun');
    t.same(ns.route('10.244.1.0/26').map((r) => [r.type, r.protocol]), [['blackhole', 'bird']]);
    t.ok((await a.call<number>('notificationsLost')) >= 1, 'the overrun was detected');
    // read by the loop, the overrun ends the socket's stream: a new socket took its place
    if (await a.call<boolean>('notificationsReadByLoop')) t.ok((await a.call<number>('notificationSockets')) >= 2, 'socket opened again');
    t.equal(ns.routes('-4', 'proto', 'static').length, 4000, 'foreign routes untouched');
  });

  t.test('IPv6 ECMP: one route, stable (no rewrite loop)', async (t) => {
    const ns = namespace(t);
    const a = await agent(t, ns);
    await a.call('start');
    await a.call('setRoute', 'fd00:10:244:2::/122', ['fd00:0:0:1::13', 'fd00:0:0:1::12']);
    await a.flush();
    const r = (await waitFor(() => ns.route('fd00:10:244:2::/122')[0], 'IPv6 ECMP route'))!;
    t.same(r.nexthops?.map((n) => n.gateway), ['fd00:0:0:1::12', 'fd00:0:0:1::13']);
    await new Promise((res) => setTimeout(res, 300));
    await a.flush();
    t.match(await a.call('stats'), { replaced: 1, failed: 0 });
  });
});
