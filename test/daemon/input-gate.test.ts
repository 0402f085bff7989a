// Backpressure from the FIB to BGP input: a peer is held while the backlog is high, read
// again once it is low, never held past the longest pause, and forgotten when it goes down.
import t from 'tap';
import { InputGate, INPUT_GATE_HIGH, INPUT_GATE_LOW } from '../../src/daemon/input-gate.js';
import type { PeerHandle } from '../../src/bgp/session/peer.js';
import { FakeClock } from '../../src/util/clock.js';

function peer(): { h: PeerHandle; calls: string[] } {
  const calls: string[] = [];
  const h = { pauseInput: () => calls.push('pause'), resumeInput: () => calls.push('resume') } as unknown as PeerHandle;
  return { h, calls };
}

t.test('held above the high mark, read again at the low mark', async (t) => {
  const clock = new FakeClock();
  let backlog = INPUT_GATE_HIGH - 1;
  const gate = new InputGate(() => backlog, clock);
  const a = peer();
  const b = peer();
  gate.check(a.h);
  t.same(a.calls, [], 'below the high mark: read on');
  backlog = INPUT_GATE_HIGH;
  gate.check(a.h);
  gate.check(a.h);
  gate.check(b.h);
  t.same(a.calls, ['pause'], 'paused once');
  t.same(b.calls, ['pause']);
  backlog = INPUT_GATE_LOW + 1;
  clock.advance(100);
  t.same(a.calls, ['pause'], 'still held above the low mark');
  backlog = INPUT_GATE_LOW;
  clock.advance(100);
  t.same(a.calls, ['pause', 'resume']);
  t.same(b.calls, ['pause', 'resume']);
  t.equal(clock.pendingTimers(), 0, 'no timer left');
});

t.test('never held longer than a second: a kernel that stops answering does not stop BGP', async (t) => {
  const clock = new FakeClock();
  const gate = new InputGate(() => INPUT_GATE_HIGH * 2, clock);
  const a = peer();
  gate.check(a.h);
  clock.advance(990);
  t.same(a.calls, ['pause']);
  clock.advance(20);
  t.same(a.calls, ['pause', 'resume']);
  gate.check(a.h);
  t.same(a.calls, ['pause', 'resume', 'pause'], 'held again by its next UPDATE');
  gate.release();
  t.same(a.calls, ['pause', 'resume', 'pause', 'resume']);
});

t.test('a peer that went down is not resumed; a FIB without a backlog figure holds nobody', async (t) => {
  const clock = new FakeClock();
  const gate = new InputGate(() => INPUT_GATE_HIGH, clock);
  const a = peer();
  gate.check(a.h);
  gate.forget(a.h);
  clock.advance(2000);
  t.same(a.calls, ['pause']);
  const none = new InputGate(() => undefined as unknown as number, clock);
  const b = peer();
  none.check(b.h);
  t.same(b.calls, []);
});
