// `tern status` prints the table `calicoctl node status` prints: exact text.
import t from 'tap';
import { formatSince, renderStatus } from '../../src/cli/status-table.js';
import type { PeerStatusJson } from '../../src/api/types.js';

const now = new Date(2026, 10, 21, 23, 40, 0); // local time, as BIRD and calicoctl print it

function peer(p: Partial<PeerStatusJson>): PeerStatusJson {
  return {
    address: '172.17.8.102', type: 'node-to-node mesh', state: 'up', bgpState: 'Established',
    since: new Date(2026, 10, 21, 23, 30, 4).toISOString(), info: 'Established', asn: 64512,
    received: 3, advertised: 2, name: 'Mesh_172_17_8_102', port: 179, family: 'ipv4', localAs: 64512,
    ...p,
  };
}

t.test('SINCE: hh:mm:ss within 20 hours, else the date', async (t) => {
  t.equal(formatSince(new Date(2026, 10, 21, 23, 30, 4).toISOString(), now), '23:30:04');
  t.equal(formatSince(new Date(2026, 10, 21, 3, 40, 1).toISOString(), now), '03:40:01', '19h59m ago');
  t.equal(formatSince(new Date(2026, 10, 20, 3, 39, 59).toISOString(), now), '2026-11-20', 'more than 20 hours ago');
});

t.test('the calicoctl table, IPv4 and IPv6 sections', async (t) => {
  const text = renderStatus([
    peer({}),
    peer({ address: '10.0.0.1', type: 'global', state: 'start', bgpState: 'Active', info: 'Active Socket: Connection refused' }),
  ], now);
  t.equal(text, [
    'tern process is running.',
    '',
    'IPv4 BGP status',
    '+--------------+-------------------+-------+----------+-----------------------------------+',
    '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |               INFO                |',
    '+--------------+-------------------+-------+----------+-----------------------------------+',
    '| 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established                       |',
    '| 10.0.0.1     | global            | start | 23:30:04 | Active Socket: Connection refused |',
    '+--------------+-------------------+-------+----------+-----------------------------------+',
    '',
    'IPv6 BGP status',
    'No IPv6 peers found.',
    '',
  ].join('\n'));
});

t.test('--wide adds the reflector-client flag and route counts', async (t) => {
  const text = renderStatus([peer({ routeReflectorClient: true, received: 12, advertised: 40 })], now, true);
  t.match(text, /\| PEER ADDRESS \|\s+PEER TYPE\s+\| STATE \|\s+SINCE\s+\|\s+INFO\s+\| RR CLIENT \| RECEIVED \| ADVERTISED \|/);
  t.match(text, /\| 172\.17\.8\.102 \| node-to-node mesh \| up\s+\| 23:30:04 \| Established \| yes\s+\| 12\s+\| 40\s+\|/);
});

t.test('no peers', async (t) => {
  t.equal(renderStatus([], now), 'tern process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n\nIPv6 BGP status\nNo IPv6 peers found.\n');
});
