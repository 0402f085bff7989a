// Readiness and liveness verdicts (src/api/health.ts), as calico-node's bird-ready words them.
import t from 'tap';
import { health, liveness, readiness, type HealthView } from '../../src/api/health.js';

const view = (over: Partial<HealthView> = {}): HealthView => ({
  started: true, phase: 'running', speakerListening: true, restartRecovery: false, peers: [], ...over,
});
const peer = (address: string, bgpState: string) => ({ address, name: `Mesh_${address.replace(/\./g, '_')}`, bgpState });

t.test('a node with no peers is ready', async (t) => {
  t.same(readiness(view()), { ok: true, reason: 'ready: no BGP peers configured' });
});

t.test('every configured peer must be Established; the down ones are named', async (t) => {
  t.same(readiness(view({ peers: [peer('10.0.0.2', 'Established'), peer('10.0.0.3', 'Active'), peer('10.0.0.4', 'Idle')] })),
    { ok: false, reason: 'not ready: BGP not established with 10.0.0.3, 10.0.0.4' });
  t.same(readiness(view({ peers: [peer('10.0.0.2', 'Established'), peer('10.0.0.3', 'Established')] })),
    { ok: true, reason: 'ready: 2 BGP peers Established' });
});

t.test('not ready while restarting with forwarding state and End-of-RIB outstanding', async (t) => {
  const v = readiness(view({ restartRecovery: true, peers: [peer('10.0.0.2', 'Established')] }));
  t.equal(v.ok, false);
  t.match(v.reason, /graceful restart in progress/);
});

t.test('starting: live, not ready; a closed listener is neither', async (t) => {
  const starting = health(view({ started: false, phase: 'loading the datastore', speakerListening: false }));
  t.same(starting, { live: { ok: true, reason: 'live: loading the datastore' }, ready: { ok: false, reason: 'not ready: loading the datastore' } });
  t.equal(liveness(view({ speakerListening: false })).ok, false);
  t.equal(readiness(view({ speakerListening: false })).ok, false);
});

t.test('sessions with local workloads do not count, as calico-node ignores Local_Workload_ protocols', async (t) => {
  const wl = { address: '10.244.1.5', name: 'Local_Workload_10_244_1_5', bgpState: 'Active' };
  t.same(readiness(view({ peers: [peer('10.0.0.2', 'Established'), wl] })), { ok: true, reason: 'ready: 1 BGP peer Established' });
  t.same(readiness(view({ peers: [wl] })), { ok: true, reason: 'ready: no BGP peers configured' });
});
