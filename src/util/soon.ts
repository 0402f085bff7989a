// `soon(fn)`: run fn after the current callback, in the same event-loop pass when the loop
// is idle, in a later pass when it is busy.
//
// The Loc-RIB flush, the FIB tick and the netlink write batch each coalesce the changes of
// one callback (a TCP read of many UPDATEs, one pass over kernel notifications). Scheduled
// with setImmediate, each of those stages waited for the next loop pass, and an event crossed
// two or three passes per daemon before it reached the socket or the kernel (the latency
// scenario of docs/benchmarks.md: p50 2 ms against BIRD's 1 ms, with ~0.15 ms of CPU per
// route). A microtask runs right after the callback that scheduled it, with the same
// coalescing. Under a backlog the chain must not keep the loop from reading its sockets, so
// after SOON_MICROTASKS microtask runs in one pass the rest wait for the next pass
// (setImmediate), where they batch with whatever arrived meanwhile.
//
// The microtask is a reaction to an already resolved promise, not queueMicrotask(): Node's
// queueMicrotask builds an AsyncResource per call and runs the callback through
// runInAsyncScope (async-hook bookkeeping before and after); with the Immediate per pass
// below and the session timers, that machinery was 6–9 % of an event's CPU on the latency
// path (docs/benchmarks.md, round 2 changes). Both enqueue on V8's one microtask queue at
// call time, so the order is the same. An exception thrown by fn is rethrown from a
// queueMicrotask of its own: it reaches 'uncaughtException' as before, never an unhandled
// rejection.
//
// The count is reset by an Immediate at the end of a pass, armed only once the count has
// reached RESET_AT: an idle daemon's event (3–4 stages) then arms none, and a busy pass still
// gets at least SOON_MICROTASKS − RESET_AT + 1 runs (16 when its count started from zero).
const SOON_MICROTASKS = 16;
const RESET_AT = SOON_MICROTASKS / 2;
const resolved = Promise.resolve();

let runs = 0;
let resetArmed = false;

function reset(): void {
  runs = 0;
  resetArmed = false;
}

export interface SoonHandle { cancel(): void }

export function soon(fn: () => void): SoonHandle {
  if (runs < SOON_MICROTASKS) {
    runs++;
    if (runs >= RESET_AT && !resetArmed) { resetArmed = true; setImmediate(reset); }
    let cancelled = false;
    void resolved.then(() => {
      if (cancelled) return;
      try {
        fn();
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
    });
    return { cancel: () => { cancelled = true; } };
  }
  const i = setImmediate(fn);
  return { cancel: () => clearImmediate(i) };
}
