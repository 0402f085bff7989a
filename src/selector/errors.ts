// SelectorError: a Calico selector that does not parse. The message names the offending
// character by position and repeats the selector with a caret under it.
import { DaemonError } from '../util/errors.js';

export class SelectorError extends DaemonError {
  override readonly name = 'SelectorError';
  /** 0-based index into `selector` of the offending character (== length for "unexpected end"). */
  readonly position: number;
  readonly selector: string;
  readonly reason: string;

  constructor(selector: string, position: number, reason: string) {
    super('ERR_SELECTOR_SYNTAX', formatMessage(selector, position, reason), { selector, position, reason });
    this.position = position;
    this.selector = selector;
    this.reason = reason;
  }
}

/**
 * "selector syntax error at position 5: <reason>" followed by the selector and a caret line.
 * The caret line copies tabs from the selector so the caret stays aligned in a terminal.
 */
function formatMessage(selector: string, position: number, reason: string): string {
  const pad = selector.slice(0, position).replace(/[^\t]/g, ' ');
  return `selector syntax error at position ${position}: ${reason}\n  ${selector}\n  ${pad}^`;
}
