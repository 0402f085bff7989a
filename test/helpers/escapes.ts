// Exceptions and rejections that escape a test's code (thrown from a socket's event handler,
// a timer, a promise nobody awaits) are collected instead of ending the test process, so a
// model test can fail the run that let one escape and name it.
import type { Test } from 'tap';

/** The list every escaped exception or rejection is pushed to, from now until `t` ends. */
export function collectEscapes(t: Test): unknown[] {
  const escaped: unknown[] = [];
  const onEscape = (e: unknown) => void escaped.push(e);
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  t.teardown(() => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });
  return escaped;
}
