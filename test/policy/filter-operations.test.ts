// BGPFilter's v3.32 match fields and operations: communities (standard, large), asPathPrefix
// (BIRD path mask [= a b * =]), peerType resolved per peer, first-match over the chain, and an
// Accept's operations (addCommunity, prependASPath) applied in order, on Accept only, to the
// route as held before the export's own changes (local AS in front toward eBGP, as BIRD adds
// it after the export filter). Pure: no sockets.
import t from 'tap';
import { asPathBegins, compileChain, evaluateChain, firstMatch, type FilterChainSpec, type FilterRuleSpec } from '../../src/policy/bgp-filter.js';
import { applyOperations } from '../../src/policy/filter-operations.js';
import { rulesForPeer } from '../../src/peering/filters.js';
import { AdjRibOutManager } from '../../src/rib/adj-rib-out-manager.js';
import type { OutPeer } from '../../src/rib/update-group.js';
import type { PathAttributes, UpdateMessage } from '../../src/bgp/wire/types.js';
import { makeRib, addPeer, attrs, announce } from '../rib/fixtures/helpers.js';
import { CTX } from '../rib/fixtures/export-ctx.js';
import { FakeSink, announced } from '../rib/fixtures/sink.js';

const chain = (...filters: FilterRuleSpec[][]): FilterChainSpec => filters.map((rules, i) => ({ name: `f${i}`, rules }));
const route = (a: PathAttributes, prefix = '10.244.7.0/26') => ({ prefix, attrs: a, fromPeer: true, iface: '' });
const std = (a: number, b: number) => a * 65536 + b;
const seq = (...asns: number[]) => ({ type: 2 as const, asns });

t.test('communities: standard against COMMUNITIES, large against LARGE_COMMUNITY; none held: no match', async (t) => {
  const c = compileChain(chain([{ action: 'reject', community: '65000:100' }], [{ action: 'accept', community: '65000:100:7' }]));
  t.equal(evaluateChain(c, route({ communities: [std(1, 1), std(65000, 100)] })), 'reject');
  t.equal(evaluateChain(c, route({ communities: [std(65000, 101)] })), undefined);
  t.equal(evaluateChain(c, route({ largeCommunities: [[65000, 100, 7]] })), 'accept');
  t.equal(evaluateChain(c, route({ largeCommunities: [[65000, 100, 8]], communities: [std(65000, 7)] })), undefined);
  t.equal(evaluateChain(c, route({})), undefined, 'no attribute');
  t.equal(evaluateChain(compileChain(chain([{ action: 'reject', community: '0:0' }])), route({ communities: [0] })), 'reject', '0:0 is a value like any');
});

t.test('asPathPrefix: the path begins with the AS numbers, one position per AS of a sequence; AS_SETs as BIRD reads them', async (t) => {
  t.ok(asPathBegins([seq(65000, 65001, 3)], [65000, 65001]));
  t.ok(asPathBegins([seq(65000), seq(65001)], [65000, 65001]), 'across segments');
  t.ok(asPathBegins([seq(65000, 65001)], [65000, 65001]), 'the whole path');
  t.notOk(asPathBegins([seq(65000)], [65000, 65001]), 'shorter than the prefix');
  t.notOk(asPathBegins([seq(65001, 65000)], [65000]), 'order matters');
  t.notOk(asPathBegins([], [65000]), 'an empty path (local route) never matches');
  const set = (...asns: number[]) => ({ type: 1 as const, asns });
  t.ok(asPathBegins([set(7, 65001), seq(3)], [65001, 3]), 'a set member');
  t.ok(asPathBegins([set(7, 65001)], [7, 65001]), 'a set stands for a run of its members (BIRD)');
  t.ok(asPathBegins([set(7), seq(3)], [7, 7, 7, 3]), 'with repetitions');
  t.notOk(asPathBegins([set(7), seq(3)], [3]), 'but at least one');
  t.notOk(asPathBegins([set(7), seq(3)], [7, 8]), 'then the path goes on');
  t.ok(asPathBegins([set(1), set(2), seq(3)], [1, 3]), 'sets right after a matched set may be passed over (BIRD)');
  t.notOk(asPathBegins([seq(1), set(2), seq(3)], [1, 3]), 'a set after a sequence may not');
  t.ok(asPathBegins([{ type: 4, asns: [9] }, seq(3)], [9, 3]), 'AS_CONFED_SET as AS_SET');
  const c = compileChain(chain([{ action: 'reject', asPathPrefix: [65000] }]));
  t.equal(evaluateChain(c, route({ asPath: [seq(65000, 1)] })), 'reject');
  t.equal(evaluateChain(c, route({ asPath: [seq(1, 65000)] })), undefined);
  t.equal(evaluateChain(c, route({})), undefined);
});

t.test('conditions are and-ed; the first matching rule of the chain wins, with its operations', async (t) => {
  const c = compileChain(chain(
    [{ action: 'accept', cidr: '10.244.0.0/16', operator: 'in', community: '1:1', operations: [{ addCommunity: '9:9' }] }],
    [{ action: 'reject', community: '1:1' }, { action: 'accept', operations: [{ prependAsPath: [5] }] }],
  ));
  t.same(firstMatch(c, route({ communities: [std(1, 1)] }))?.operations, [{ addCommunity: '9:9' }]);
  t.equal(firstMatch(c, route({ communities: [std(1, 1)] }, '10.1.0.0/24'))?.action, 'reject', 'cidr fails: the next filter\'s rule');
  t.same(firstMatch(c, route({}, '10.1.0.0/24'))?.operations, [{ prependAsPath: [5] }]);
  const rejectOps = compileChain(chain([{ action: 'reject', operations: [{ addCommunity: '9:9' }] }]));
  t.equal(firstMatch(rejectOps, route({}))?.operations, undefined, 'a Reject carries no operations');
});

t.test('peerType: a rule applies only to peers of its type and the chain no longer carries it', async (t) => {
  const rules: FilterRuleSpec[] = [{ action: 'reject', peerType: 'ebgp' }, { action: 'accept', peerType: 'ibgp', community: '1:1' }, { action: 'accept' }];
  t.same(rulesForPeer(rules, false), [{ action: 'reject' }, { action: 'accept' }]);
  t.same(rulesForPeer(rules, true), [{ action: 'accept', community: '1:1' }, { action: 'accept' }]);
});

t.test('operations in order: communities added once, last; prepend puts the AS numbers first in order', async (t) => {
  const a: PathAttributes = { asPath: [seq(65001)], communities: [std(1, 1)] };
  const out = applyOperations(a, [
    { addCommunity: '1:1' }, { addCommunity: '65000:200' }, { prependAsPath: [64999, 64998] }, { addCommunity: '65000:300:400' },
    { prependAsPath: [7] }, { addCommunity: '65000:300:400' },
  ]);
  t.same(out.communities, [std(1, 1), std(65000, 200)]);
  t.same(out.largeCommunities, [[65000, 300, 400]]);
  t.same(out.asPath, [seq(7, 64999, 64998, 65001)], 'a later prepend goes in front of an earlier one');
  t.same(a, { asPath: [seq(65001)], communities: [std(1, 1)] }, 'the input is not changed');
  t.same(applyOperations({}, [{ prependAsPath: [1, 2] }]).asPath, [seq(1, 2)], 'no path: one is made');
});

function ebgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { key: `192.0.2.${n}|179`, family: 'ipv4', ebgp: true, peerAs: 65100, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.0.0.1', fourOctetAs: true, addPath: false, ...extra };
}
function ibgp(n: number, extra: Partial<OutPeer> = {}): OutPeer {
  return { ...ebgp(n), key: `10.0.0.${n}|179`, ebgp: false, peerAs: CTX.localAs, ...extra };
}
const sent = (msgs: UpdateMessage[], prefix: string) => msgs.find((m) => m.nlri.some((n) => n.prefix === prefix))?.attributes;

t.test('export: an Accept\'s operations change what the peer receives; the protocol\'s changes come after', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { ebgp: true });
  announce(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2', asPath: [seq(65002)], communities: [std(65000, 42)] }));
  announce(rib, '10.0.0.2|179', '10.244.8.0/26', attrs({ nextHop: '10.0.0.2', asPath: [seq(65002)] }));
  rib.setLocal('10.244.1.0/26', attrs({ nextHop: '10.0.0.1' }), 'local:block');
  rib.flush();
  const ctx = { ...CTX, prefixCommunities: [{ cidr: '10.244.0.0/16', communities: ['65000:100'] }] };
  const out = new AdjRibOutManager(rib, ctx);
  const exportChain = compileChain(chain([
    { action: 'accept', community: '65000:42', operations: [{ addCommunity: '65000:300:400' }, { prependAsPath: [64999, 64998] }] },
    { action: 'accept', cidr: '10.244.1.0/26', operator: 'equal', operations: [{ prependAsPath: [64512] }, { addCommunity: '65000:7' }] },
  ]));
  const e = new FakeSink();
  out.addPeer(ebgp(9, { exportFilter: exportChain }), e);
  const toE = e.take();
  t.same(announced(toE).sort(), ['10.244.1.0/26', '10.244.7.0/26', '10.244.8.0/26']);
  t.same(sent(toE, '10.244.7.0/26')?.asPath, [seq(64512, 64999, 64998, 65002)], 'eBGP: local AS, then the prepend, then the path');
  t.same(sent(toE, '10.244.7.0/26')?.largeCommunities, [[65000, 300, 400]]);
  t.same(sent(toE, '10.244.7.0/26')?.communities, [std(65000, 42)], 'an Accept skips apply_communities');
  t.same(sent(toE, '10.244.1.0/26')?.asPath, [seq(64512, 64512)], 'a local route: the prepend, then the local AS');
  t.same(sent(toE, '10.244.1.0/26')?.communities, [std(65000, 7)]);
  t.same(sent(toE, '10.244.8.0/26')?.asPath, [seq(64512, 65002)], 'no rule matched: Calico\'s rules, nothing changed');
  t.same(sent(toE, '10.244.8.0/26')?.communities, [std(65000, 100)], 'and apply_communities');

  const i = new FakeSink();
  out.addPeer(ibgp(5, { exportFilter: exportChain }), i);
  const toI = i.take();
  t.same(sent(toI, '10.244.7.0/26')?.asPath, [seq(64999, 64998, 65002)], 'iBGP: the prepend only');
  t.same(sent(toI, '10.244.1.0/26')?.asPath, [seq(64512)]);

  const plain = new FakeSink();
  out.addPeer(ebgp(8), plain);
  t.same(sent(plain.take(), '10.244.7.0/26')?.asPath, [seq(64512, 65002)], 'a peer without the filter gets the route unchanged');
});

t.test('export: live change of the operations re-sends the routes with the new attributes', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { ebgp: true });
  announce(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2', asPath: [seq(65002)] }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  const withOps = (asn: number) => compileChain(chain([{ action: 'accept', operations: [{ prependAsPath: [asn] }] }]));
  out.addPeer(ebgp(9, { exportFilter: withOps(1) }), sink);
  t.same(sent(sink.take(), '10.244.7.0/26')?.asPath, [seq(64512, 1, 65002)]);
  out.updatePeer(ebgp(9, { exportFilter: withOps(2) }));
  t.same(sent(sink.take(), '10.244.7.0/26')?.asPath, [seq(64512, 2, 65002)]);
  out.updatePeer(ebgp(9));
  t.same(sent(sink.take(), '10.244.7.0/26')?.asPath, [seq(64512, 65002)], 'filter removed: as Calico\'s rules send it');
});

t.test('export: well-known communities are judged on the route as held; one an operation adds does not stop it (BIRD 2 preexport)', async (t) => {
  const rib = makeRib();
  addPeer(rib, 2, { ebgp: true });
  announce(rib, '10.0.0.2|179', '10.244.7.0/26', attrs({ nextHop: '10.0.0.2', asPath: [seq(65002)] }));
  announce(rib, '10.0.0.2|179', '10.244.8.0/26', attrs({ nextHop: '10.0.0.2', asPath: [seq(65002)], communities: [0xffffff01] }));
  rib.flush();
  const out = new AdjRibOutManager(rib, CTX);
  const sink = new FakeSink();
  out.addPeer(ebgp(9, { exportFilter: compileChain(chain([{ action: 'accept', operations: [{ addCommunity: '65535:65281' }] }])) }), sink);
  const msgs = sink.take();
  t.same(announced(msgs), ['10.244.7.0/26'], 'NO_EXPORT added by the filter: still sent; NO_EXPORT held: not sent to eBGP');
  t.same(sent(msgs, '10.244.7.0/26')?.communities, [0xffffff01]);
});
