// Go duration text (metav1.Duration in Calico resources: "120s", "2m", "1m30s", "1.5h")
// to whole seconds, rounded as Calico does (math.Round(d.Seconds())).
import { ConfigError } from '../util/errors.js';

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Seconds in a Go duration; throws ConfigError for text Go's time.ParseDuration rejects. */
export function parseGoDuration(text: string, field = 'duration'): number {
  const t = text.trim();
  if (t === '0') return 0;
  const body = t.startsWith('-') || t.startsWith('+') ? t.slice(1) : t;
  if (t.startsWith('-')) throw new ConfigError(`${field}: negative duration "${text}"`, { field, reason: 'negative' });
  if (body === '') throw new ConfigError(`${field}: empty duration`, { field, reason: 'empty' });
  PART.lastIndex = 0;
  let seconds = 0;
  while (PART.lastIndex < body.length) {
    const m = PART.exec(body);
    if (m === null) throw new ConfigError(`${field}: "${text}" is not a duration (e.g. "120s", "2m")`, { field, reason: 'syntax' });
    seconds += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  }
  return Math.round(seconds);
}
