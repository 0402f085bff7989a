// Go duration text (time.ParseDuration), as Calico serialises metav1.Duration fields
// (BGPPeer keepaliveTime/maxRestartTime, BGPConfiguration nodeMeshMaxRestartTime):
// "120s", "2m0s", "1h", "1.5h", "300ms", "1h2m3.5s". Units ns, us, µs, μs, ms, s, m, h.
// The one parser of this grammar: the model's parsers (parse-bgp.ts) and validation
// (src/datastore/checker.ts) both go through durationField.
import { ConfigError } from '../util/errors.js';

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  'µs': 1e-6, // U+00B5 micro sign
  'μs': 1e-6, // U+03BC Greek mu
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** A duration text that does not parse; `reason` is the bare explanation. */
export class DurationError extends Error {
  override readonly name = 'DurationError';
  constructor(readonly text: string, readonly reason: string) {
    super(`invalid duration "${text}": ${reason}`);
  }
}

const TERM = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration into seconds (fractional, sign kept). "0" alone needs no unit, as in
 * Go. Throws DurationError for anything time.ParseDuration would reject.
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new DurationError(String(text), 'must be a string such as "120s" or "2m0s"');
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationError(text, 'empty');
  let total = 0;
  while (rest.length > 0) {
    const m = TERM.exec(rest);
    if (!m) {
      const reason = /^(\d+(?:\.\d*)?|\.\d+)$/.test(rest)
        ? `missing unit after "${rest}" (use ns, us, ms, s, m or h)`
        : /^(\d+(?:\.\d*)?|\.\d+)/.test(rest)
          ? `unknown unit in "${rest}" (use ns, us, ms, s, m or h)`
          : `unexpected "${rest}"`;
      throw new DurationError(text, reason);
    }
    const value = Number(m[1]);
    const unit = UNIT_SECONDS[m[2] ?? ''] ?? 1;
    total += value * unit;
    rest = rest.slice(m[0].length);
  }
  // Go's limit: durations are int64 nanoseconds (about 292 years).
  if (total > 9_223_372_036.854775807) throw new DurationError(text, 'overflows a Go duration');
  return sign * total;
}

/** Go's canonical text for whole seconds: 120 → "2m0s", 3600 → "1h0m0s", 0 → "0s". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const neg = seconds < 0;
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sText = Number.isInteger(s) ? String(s) : String(Number(s.toFixed(9)));
  const body = h > 0 ? `${h}h${m}m${sText}s` : m > 0 ? `${m}m${sText}s` : `${sText}s`;
  return neg ? `-${body}` : body;
}

/**
 * A Go duration field in seconds (exact; sessions round it), or the reason it is refused.
 * `min` bounds it below: 0 refuses negatives, 1 asks for a positive duration.
 */
export function durationField(v: unknown, min = 0): { seconds: number } | { reason: string } {
  if (typeof v !== 'string') return { reason: `must be a duration text such as "120s" or "2m0s", got ${JSON.stringify(v)}` };
  let seconds: number;
  try {
    seconds = parseDuration(v);
  } catch (e) {
    if (e instanceof DurationError) return { reason: `"${v}" is not a duration (${e.reason}); use e.g. "120s", "2m0s" or "1h"` };
    throw e;
  }
  if (seconds < min) return { reason: min > 0 ? `must be a positive duration, got "${v}"` : `must not be negative, got "${v}"` };
  return { seconds };
}

/**
 * A Go duration as the whole seconds a session runs with, rounded as Calico does
 * (math.Round(d.Seconds())). Throws ConfigError naming `field` for text parseDuration
 * rejects and for a negative duration.
 */
export function durationSeconds(text: string, field = 'duration'): number {
  const d = durationField(text);
  if ('reason' in d) throw new ConfigError(`${field}: ${d.reason}`, { field, reason: d.reason });
  return Math.round(d.seconds);
}
