// The pure FSM (RFC 4271 §8.2.2, RFC 6608), table-driven over (state, event).
import t from 'tap';
import { INITIAL_STATE, step } from '../../../src/bgp/session/fsm.js';
import type { BgpState, FsmAction, FsmContext, FsmEvent, FsmState } from '../../../src/bgp/session/fsm.js';
import type { OpenMessage } from '../../../src/bgp/wire/types.js';

const localOpen: OpenMessage = { type: 'open', version: 4, myAs: 64512, holdTime: 240, bgpId: '10.0.0.1', capabilities: [] };
const active: FsmContext = { passive: false, connectRetryTime: 5, localOpen };
const passive: FsmContext = { ...active, passive: true };
const st = (state: BgpState, holdTime = 90, keepaliveTime = 30): FsmState => ({ state, holdTime, keepaliveTime });
const err = (code: number, subcode: number) => ({ code, subcode, data: Buffer.from([0xab]), message: 'x' });
const notif = (code: number, subcode: number, data: Buffer = Buffer.alloc(0)): FsmAction => ({ type: 'send', message: { type: 'notification', code, subcode, data } });
const CLOSE_ALL: FsmAction[] = [
  { type: 'stopTimer', timer: 'connectRetry' },
  { type: 'stopTimer', timer: 'hold' },
  { type: 'stopTimer', timer: 'keepalive' },
  { type: 'closeConnection' },
];
const update = { type: 'update', withdrawn: [], attributes: {}, nlri: [] } as const;
const rr = { type: 'routeRefresh', afi: 1, safi: 1, subtype: 0 } as const;

interface Row {
  from: FsmState;
  ev: FsmEvent;
  ctx?: FsmContext;
  to: BgpState;
  actions: FsmAction[];
  reason?: string;
}

const rows: Row[] = [
  // Idle
  { from: INITIAL_STATE, ev: { type: 'ManualStart' }, to: 'Connect', actions: [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }] },
  { from: INITIAL_STATE, ev: { type: 'ManualStart' }, ctx: passive, to: 'Active', actions: [] },
  { from: INITIAL_STATE, ev: { type: 'AutomaticStart' }, to: 'Connect', actions: [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }] },
  { from: INITIAL_STATE, ev: { type: 'KeepAliveMsg' }, to: 'Idle', actions: [] },
  { from: INITIAL_STATE, ev: { type: 'HoldTimerExpires' }, to: 'Idle', actions: [] },
  // Connect
  { from: st('Connect'), ev: { type: 'TcpConnectionAcknowledged' }, to: 'OpenSent', actions: [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'send', message: localOpen }, { type: 'startTimer', timer: 'hold', seconds: 240 }] },
  { from: st('Connect'), ev: { type: 'TcpConnectionFails' }, to: 'Active', reason: 'connectionFailed', actions: [{ type: 'closeConnection' }, { type: 'startTimer', timer: 'connectRetry', seconds: 5 }] },
  { from: st('Connect'), ev: { type: 'ConnectRetryTimerExpires' }, to: 'Connect', actions: [{ type: 'closeConnection' }, { type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }] },
  { from: st('Connect'), ev: { type: 'ManualStop', reason: 'adminShutdown' }, to: 'Idle', reason: 'adminShutdown', actions: CLOSE_ALL },
  // Active
  { from: st('Active'), ev: { type: 'ConnectRetryTimerExpires' }, to: 'Connect', actions: [{ type: 'startTimer', timer: 'connectRetry', seconds: 5 }, { type: 'connect' }] },
  { from: st('Active'), ev: { type: 'ConnectRetryTimerExpires' }, ctx: passive, to: 'Active', actions: [] },
  { from: st('Active'), ev: { type: 'TcpConnectionConfirmed' }, ctx: passive, to: 'OpenSent', actions: [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'send', message: localOpen }, { type: 'startTimer', timer: 'hold', seconds: 240 }] },
  // OpenSent
  { from: st('OpenSent', 0, 0), ev: { type: 'BGPOpen', holdTime: 90, keepaliveTime: 30 }, to: 'OpenConfirm', actions: [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'send', message: { type: 'keepalive' } }, { type: 'startTimer', timer: 'keepalive', seconds: 30 }, { type: 'startTimer', timer: 'hold', seconds: 90 }] },
  { from: st('OpenSent', 0, 0), ev: { type: 'BGPOpen', holdTime: 0, keepaliveTime: 0 }, to: 'OpenConfirm', actions: [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'send', message: { type: 'keepalive' } }, { type: 'stopTimer', timer: 'keepalive' }, { type: 'stopTimer', timer: 'hold' }] },
  { from: st('OpenSent'), ev: { type: 'HoldTimerExpires' }, to: 'Idle', reason: 'holdTimerExpired', actions: [notif(4, 0), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'BGPOpenMsgErr', error: err(2, 2) }, to: 'Idle', reason: 'notificationSent', actions: [notif(2, 2, Buffer.from([0xab])), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'BGPHeaderErr', error: err(1, 2) }, to: 'Idle', reason: 'notificationSent', actions: [notif(1, 2, Buffer.from([0xab])), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'KeepAliveMsg' }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 1), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'UpdateMsg', message: update }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 1), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'RouteRefreshMsg', message: rr }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 1), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'KeepaliveTimerExpires' }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 0), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'NotifMsg', message: { type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) } }, to: 'Idle', reason: 'notificationReceived', actions: CLOSE_ALL },
  { from: st('OpenSent'), ev: { type: 'TcpConnectionFails' }, to: 'Idle', reason: 'connectionFailed', actions: CLOSE_ALL },
  { from: st('OpenSent'), ev: { type: 'OpenCollisionDump' }, to: 'Idle', reason: 'collision', actions: [notif(6, 7), ...CLOSE_ALL] },
  { from: st('OpenSent'), ev: { type: 'ManualStop', reason: 'peerDeconfigured' }, to: 'Idle', reason: 'peerDeconfigured', actions: [notif(6, 3), ...CLOSE_ALL] },
  // OpenConfirm
  { from: st('OpenConfirm'), ev: { type: 'KeepAliveMsg' }, to: 'Established', actions: [{ type: 'startTimer', timer: 'hold', seconds: 90 }, { type: 'emitEstablished' }] },
  { from: st('OpenConfirm'), ev: { type: 'KeepaliveTimerExpires' }, to: 'OpenConfirm', actions: [{ type: 'send', message: { type: 'keepalive' } }, { type: 'startTimer', timer: 'keepalive', seconds: 30 }] },
  { from: st('OpenConfirm'), ev: { type: 'UpdateMsg', message: update }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 2), ...CLOSE_ALL] },
  { from: st('OpenConfirm'), ev: { type: 'UnexpectedOpen' }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 2), ...CLOSE_ALL] },
  { from: st('OpenConfirm'), ev: { type: 'RouteRefreshMsg', message: rr }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 2), ...CLOSE_ALL] },
  { from: st('OpenConfirm'), ev: { type: 'HoldTimerExpires' }, to: 'Idle', reason: 'holdTimerExpired', actions: [notif(4, 0), ...CLOSE_ALL] },
  { from: st('OpenConfirm'), ev: { type: 'OpenCollisionDump' }, to: 'Idle', reason: 'collision', actions: [notif(6, 7), ...CLOSE_ALL] },
  { from: st('OpenConfirm'), ev: { type: 'ManualStop', reason: 'collision' }, to: 'Idle', reason: 'collision', actions: [notif(6, 7), ...CLOSE_ALL] },
  // Established
  { from: st('Established'), ev: { type: 'KeepAliveMsg' }, to: 'Established', actions: [{ type: 'startTimer', timer: 'hold', seconds: 90 }] },
  { from: st('Established', 0, 0), ev: { type: 'KeepAliveMsg' }, to: 'Established', actions: [{ type: 'stopTimer', timer: 'hold' }] },
  { from: st('Established'), ev: { type: 'UpdateMsg', message: update }, to: 'Established', actions: [{ type: 'startTimer', timer: 'hold', seconds: 90 }, { type: 'deliver', message: update }] },
  { from: st('Established'), ev: { type: 'RouteRefreshMsg', message: rr }, to: 'Established', actions: [{ type: 'startTimer', timer: 'hold', seconds: 90 }, { type: 'deliver', message: rr }] },
  { from: st('Established'), ev: { type: 'KeepaliveTimerExpires' }, to: 'Established', actions: [{ type: 'send', message: { type: 'keepalive' } }, { type: 'startTimer', timer: 'keepalive', seconds: 30 }] },
  { from: st('Established'), ev: { type: 'HoldTimerExpires' }, to: 'Idle', reason: 'holdTimerExpired', actions: [notif(4, 0), ...CLOSE_ALL, { type: 'emitDown', reason: 'holdTimerExpired' }] },
  { from: st('Established'), ev: { type: 'UnexpectedOpen' }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 3), ...CLOSE_ALL, { type: 'emitDown', reason: 'notificationSent' }] },
  { from: st('Established'), ev: { type: 'UpdateMsgErr', error: err(3, 1) }, to: 'Idle', reason: 'notificationSent', actions: [notif(3, 1, Buffer.from([0xab])), ...CLOSE_ALL, { type: 'emitDown', reason: 'notificationSent' }] },
  { from: st('Established'), ev: { type: 'RouteRefreshMsgErr', error: err(7, 1) }, to: 'Idle', reason: 'notificationSent', actions: [notif(7, 1, Buffer.from([0xab])), ...CLOSE_ALL, { type: 'emitDown', reason: 'notificationSent' }] },
  { from: st('Established'), ev: { type: 'NotifMsg', message: { type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0) } }, to: 'Idle', reason: 'notificationReceived', actions: [...CLOSE_ALL, { type: 'emitDown', reason: 'notificationReceived' }] },
  { from: st('Established'), ev: { type: 'TcpConnectionFails' }, to: 'Idle', reason: 'connectionFailed', actions: [...CLOSE_ALL, { type: 'emitDown', reason: 'connectionFailed' }] },
  { from: st('Established'), ev: { type: 'ManualStop', reason: 'adminShutdown' }, to: 'Idle', reason: 'adminShutdown', actions: [notif(6, 2), ...CLOSE_ALL, { type: 'emitDown', reason: 'adminShutdown' }] },
  { from: st('Established'), ev: { type: 'ManualStop', reason: 'adminReset' }, to: 'Idle', reason: 'adminReset', actions: [notif(6, 4), ...CLOSE_ALL, { type: 'emitDown', reason: 'adminReset' }] },
  { from: st('Established'), ev: { type: 'ManualStop', reason: 'configChanged' }, to: 'Idle', reason: 'configChanged', actions: [notif(6, 6), ...CLOSE_ALL, { type: 'emitDown', reason: 'configChanged' }] },
  { from: st('Established'), ev: { type: 'ManualStop', reason: 'peerRestarted' }, to: 'Idle', reason: 'peerRestarted', actions: [...CLOSE_ALL, { type: 'emitDown', reason: 'peerRestarted' }] },
  { from: st('Established'), ev: { type: 'ConnectRetryTimerExpires' }, to: 'Idle', reason: 'notificationSent', actions: [notif(5, 0), ...CLOSE_ALL, { type: 'emitDown', reason: 'notificationSent' }] },
];

for (const r of rows) {
  const name = `${r.from.state} + ${r.ev.type}${r.ctx?.passive ? ' (passive)' : ''} → ${r.to}`;
  t.test(name, async (t) => {
    const res = step(r.from, r.ev, r.ctx ?? active);
    t.equal(res.state.state, r.to);
    t.same(res.actions, r.actions);
    t.equal(res.reason, r.reason);
  });
}

t.test('negotiated timers are kept from OpenConfirm into Established and cleared in Idle', async (t) => {
  const a = step(st('OpenSent', 0, 0), { type: 'BGPOpen', holdTime: 9, keepaliveTime: 3 }, active);
  const b = step(a.state, { type: 'KeepAliveMsg' }, active);
  t.same(b.state, { state: 'Established', holdTime: 9, keepaliveTime: 3 });
  const c = step(b.state, { type: 'HoldTimerExpires' }, active);
  t.same(c.state, { state: 'Idle', holdTime: 0, keepaliveTime: 0 });
});

t.test('step is pure: the input state is not modified', async (t) => {
  const from = st('OpenConfirm');
  const copy = { ...from };
  step(from, { type: 'KeepAliveMsg' }, active);
  t.same(from, copy);
});
