// calicoctl's TYPE and INFO texts, rendered from the sessions' typed state.
import t from 'tap';
import { lastErrorText, PEER_TYPE_TEXT, peerInfo } from '../../src/api/peer-display.js';

t.test('peer types as calicoctl names them', async (t) => {
  t.same(PEER_TYPE_TEXT, { mesh: 'node-to-node mesh', global: 'global', node: 'node specific', localWorkload: 'local workload' });
});

t.test('last errors as BIRD prints them', async (t) => {
  t.equal(lastErrorText(null), '');
  t.equal(lastErrorText({ kind: 'socket', message: 'Connection refused' }), 'Socket: Connection refused');
  t.equal(lastErrorText({ kind: 'received', code: 6, subcode: 2 }), 'Received: Administrative shutdown');
  t.equal(lastErrorText({ kind: 'sent', code: 2, subcode: 2 }), 'BGP Error: Bad Peer AS');
  t.equal(lastErrorText({ kind: 'gracefulRestart' }), 'Error: Graceful restart');
  t.equal(lastErrorText({ kind: 'notStarted', reason: 'passwordUnresolved', detail: 'no Secret bgp-pw in the datastore' }), 'Error: no Secret bgp-pw in the datastore');
});

t.test('INFO: state and error; a protocol that is down shows only its error', async (t) => {
  t.equal(peerInfo({ state: 'up', bgpState: 'Established', lastError: null }), 'Established');
  t.equal(peerInfo({ state: 'start', bgpState: 'Active', lastError: { kind: 'socket', message: 'Connection refused' } }), 'Active Socket: Connection refused');
  t.equal(peerInfo({ state: 'start', bgpState: 'Passive', lastError: null }), 'Passive');
  t.equal(peerInfo({ state: 'down', bgpState: 'Idle', lastError: null }), 'Down');
  t.equal(peerInfo({ state: 'down', bgpState: 'Idle', lastError: { kind: 'notStarted', reason: 'socketOptionsUnavailable', detail: 'TCP MD5 / TTL: x' } }), 'Error: TCP MD5 / TTL: x');
});
