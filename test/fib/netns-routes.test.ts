// Real kernel: FibSync with NetlinkKernel inside throw-away network namespaces.
import t, { type Test } from 'tap';
import { Agent, Netns, canUseNetns, waitFor, type IpRoute } from './fixtures/netns-helpers.js';

const skip = canUseNetns();
const never = { cidr: '10.244.0.0/16', ipipMode: 'never', vxlanMode: 'never' };
const always = { cidr: '10.245.0.0/16', ipipMode: 'always', vxlanMode: 'never' };
const cross = { cidr: '10.246.0.0/16', ipipMode: 'crossSubnet', vxlanMode: 'never' };
const v6pool = { cidr: 'fd00:10:244::/48', ipipMode: 'never', vxlanMode: 'never' };

/** One namespace and agent per test, removed in teardown even when the test fails. */
async function setup(t: Test, opts: { tunl0?: boolean; staleTimeMs?: number } = {}) {
  const ns = new Netns({ tunl0: opts.tunl0 ?? true });
  const agent = new Agent(ns, opts.staleTimeMs);
  t.teardown(async () => { await agent.stop(); ns.destroy(); });
  await agent.call('setPools', [never, always, cross, v6pool], '10.0.0.11/24');
  await agent.call('start');
  return { ns, agent };
}

const bird = (ns: Netns): IpRoute[] => ns.routes('-4', 'proto', 'bird');

t.test('real kernel', { skip }, async (t) => {
  t.test('own block → blackhole proto bird; unset → removed; only passed blocks', async (t) => {
    const { ns, agent } = await setup(t);
    await agent.call('setOwnBlocks', ['10.244.1.0/26', 'fd00:10:244:1::/122']);
    await agent.flush();
    t.same(ns.route('10.244.1.0/26').map((r) => [r.type, r.dst, r.protocol]), [['blackhole', '10.244.1.0/26', 'bird']]);
    t.same(ns.route('fd00:10:244:1::/122').map((r) => [r.type, r.dst, r.protocol]), [['blackhole', 'fd00:10:244:1::/122', 'bird']]);
    await new Promise((r) => setTimeout(r, 200)); // let the notifications of our writes arrive
    await agent.flush();
    t.match(await agent.call('stats'), { replaced: 2, failed: 0 }, 'written once: notifications of our own writes cause no rewrite');
    t.same(bird(ns).map((r) => r.dst), ['10.244.1.0/26'], 'a pending affinity (not passed) gets nothing');
    t.same(await agent.call('status', '10.244.1.0/26'), { state: 'installed' });
    await agent.call('setOwnBlocks', []);
    await agent.flush();
    t.same(ns.route('10.244.1.0/26'), []);
    t.same(ns.route('fd00:10:244:1::/122'), []);
  });

  t.test('never / always / crossSubnet shapes', async (t) => {
    const { ns, agent } = await setup(t);
    await agent.call('setRoute', '10.244.2.0/26', ['10.0.0.12']);
    await agent.call('setRoute', '10.245.2.0/26', ['10.0.0.12']);
    await agent.call('setRoute', '10.246.2.0/26', ['10.0.0.13']);
    await agent.call('setRoute', '10.246.3.0/26', ['10.1.0.13']);
    await agent.flush();
    const pick = (r: IpRoute[]) => r.map((x) => ({ gateway: x.gateway, dev: x.dev, protocol: x.protocol, onlink: (x.flags ?? []).includes('onlink') }));
    t.same(pick(ns.route('10.244.2.0/26')), [{ gateway: '10.0.0.12', dev: 'eth0', protocol: 'bird', onlink: false }], 'never: via NH dev eth0');
    t.same(pick(ns.route('10.245.2.0/26')), [{ gateway: '10.0.0.12', dev: 'tunl0', protocol: 'bird', onlink: true }], 'always: tunl0 onlink');
    t.same(pick(ns.route('10.246.2.0/26')), [{ gateway: '10.0.0.13', dev: 'eth0', protocol: 'bird', onlink: false }], 'crossSubnet, same subnet: direct');
    t.same(pick(ns.route('10.246.3.0/26')), [{ gateway: '10.1.0.13', dev: 'tunl0', protocol: 'bird', onlink: true }], 'crossSubnet, other subnet: tunl0');
  });

  t.test('ECMP: two next hops → one route; one withdrawn → single', async (t) => {
    const { ns, agent } = await setup(t);
    await agent.call('setRoute', '10.244.4.0/26', ['10.0.0.13', '10.0.0.12']);
    await agent.flush();
    const r = ns.route('10.244.4.0/26');
    t.equal(r.length, 1);
    t.same(r[0]?.nexthops?.map((n) => [n.gateway, n.dev]), [['10.0.0.12', 'eth0'], ['10.0.0.13', 'eth0']]);
    await agent.call('setRoute', '10.244.4.0/26', ['10.0.0.13']);
    await agent.flush();
    const s = ns.route('10.244.4.0/26');
    t.same(s.map((x) => [x.gateway, x.dev, x.nexthops]), [['10.0.0.13', 'eth0', undefined]]);
  });

  t.test('IPv6 route installs (direct, never IPIP)', async (t) => {
    const { ns, agent } = await setup(t);
    await agent.call('setRoute', 'fd00:10:244:1::/122', ['fd00:0:0:1::12']);
    await agent.flush();
    const r = (await waitFor(() => ns.route('fd00:10:244:1::/122')[0], 'IPv6 route'))!;
    t.same([r.gateway, r.dev, r.protocol, r.metric], ['fd00:0:0:1::12', 'eth0', 'bird', 1024]);
    await agent.call('setRoute', 'fd00:10:244:1::/122', null);
    await agent.flush();
    t.same(ns.route('fd00:10:244:1::/122'), []);
  });

  t.test('our own writes are not read back; a change by another process is seen and repaired', async (t) => {
    const { ns, agent } = await setup(t);
    // the set-up's own notifications came before the agent subscribed: the namespace has no
    // duplicate address detection, so no link-local address ends it (and gets its local
    // route) later; checked, since one finishing now would be counted below
    t.notOk(ns.tentative(), 'no IPv6 address is tentative');
    const before = await agent.call<number>('notificationsRead');
    for (let i = 0; i < 200; i++) await agent.call('setRoute', `10.244.${i}.0/26`, ['10.0.0.12']);
    await agent.flush();
    t.equal(bird(ns).length, 200);
    await new Promise((r) => setTimeout(r, 300)); // any echo would have arrived by now
    t.equal(await agent.call<number>('notificationsRead'), before, 'no notification read for 200 writes of ours');
    t.match(await agent.call('stats'), { replaced: 200, failed: 0 });
    // another process deletes one of our routes: noticed (its own port id), written again
    ns.ip('route', 'del', '10.244.3.0/26', 'proto', 'bird');
    await waitFor(() => ns.route('10.244.3.0/26').length === 1, 'deleted route written again');
    // another process rewrites one: noticed, put back
    ns.ip('route', 'replace', '10.244.4.0/26', 'via', '10.0.0.13', 'proto', 'bird');
    await waitFor(() => ns.route('10.244.4.0/26')[0]?.gateway === '10.0.0.12', 'changed route put back');
    await agent.flush();
    t.match(await agent.call('stats'), { replaced: 202, failed: 0 });
    t.equal(await agent.call<number>('notificationsRead'), before + 2, 'the two foreign changes, not our repairs');
  });

  t.test('a proto-bird blackhole tern did not write is learned, and unlearned', async (t) => {
    const { ns, agent } = await setup(t);
    ns.ip('route', 'add', 'blackhole', '10.244.9.0/26', 'proto', 'bird');
    ns.ip('route', 'add', 'blackhole', '192.168.9.0/26', 'proto', 'bird'); // outside every pool
    await waitFor(() => agent.learned.length >= 1, 'learned event');
    t.same(agent.learned, [['10.244.9.0/26', true]]);
    ns.ip('route', 'del', 'blackhole', '10.244.9.0/26', 'proto', 'bird');
    await waitFor(() => agent.learned.length >= 2, 'unlearned event');
    t.same(agent.learned, [['10.244.9.0/26', true], ['10.244.9.0/26', false]]);
    t.same(ns.route('192.168.9.0/26').map((r) => r.type), ['blackhole'], 'not ours: left alone');
  });

  t.test('an alien proto static route with the same prefix is left untouched', async (t) => {
    const { ns, agent } = await setup(t);
    ns.ip('route', 'add', '10.244.5.0/26', 'via', '10.0.0.99', 'proto', 'static');
    await agent.call('setRoute', '10.244.5.0/26', ['10.0.0.12']);
    await agent.flush();
    t.same(ns.route('10.244.5.0/26').map((r) => [r.gateway, r.protocol]), [['10.0.0.99', 'static']]);
    t.match(await agent.call('status', '10.244.5.0/26'), { state: 'pending', code: 'ERR_FIB_ALIEN_ROUTE' });
    await agent.call('setRoute', '10.244.5.0/26', null);
    await agent.flush();
    t.same(ns.route('10.244.5.0/26').map((r) => [r.gateway, r.protocol]), [['10.0.0.99', 'static']]);
  });
});
