// Structured logging through winston. One root logger; modules take child loggers with
// their bindings (peer, localAs, peerAs, ...) and log named events, never per-route lines
// on hot paths.
import winston from 'winston';
import { envValue } from '../settings/registry.js';

export type Logger = winston.Logger;

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Calico's logSeverityScreen values mapped to winston levels. */
export function levelFromCalico(severity: string | undefined): LogLevel {
  switch ((severity ?? 'Info').toLowerCase()) {
    case 'debug': return 'debug';
    case 'warning': case 'warn': return 'warn';
    case 'error': case 'fatal': case 'panic': return 'error';
    default: return 'info';
  }
}

export function createLogger(opts: { level?: LogLevel; json?: boolean; silent?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const json = opts.json ?? envValue('TERN_LOG_FORMAT') === 'json';
  return skipDisabledLevels(winston.createLogger({
    level: opts.level ?? ((envValue('TERN_LOG_LEVEL') as LogLevel | undefined) ?? 'info'),
    silent: opts.silent ?? false,
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf((info) => {
            const { level, message, timestamp, ...rest } = info;
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${String(timestamp)} ${level} ${String(message)}${extra}`;
          }),
        ),
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  }));
}

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/**
 * winston filters levels inside its stream: a debug line at level warn still builds its
 * info object, merges the child's metadata and runs through the Transform machinery before
 * being dropped (measured: a fifth of a mesh node's start-up CPU went to state-change and
 * debug lines nobody sees). Here a call below the logger's current level returns at once.
 * Child loggers are created with Object.create(parent), so they inherit these methods; the
 * level is read at each call, so a level changed at run time applies at once.
 */
function skipDisabledLevels(logger: winston.Logger): winston.Logger {
  type AnyFn = (this: winston.Logger, ...args: unknown[]) => unknown;
  const target = logger as unknown as Record<string, AnyFn>;
  for (const level of LEVELS) {
    const original = target[level]!;
    target[level] = function (this: winston.Logger, ...args: unknown[]) {
      return this.isLevelEnabled(level) ? original.apply(this, args) : this;
    };
  }
  const originalLog = target.log!;
  target.log = function (this: winston.Logger, ...args: unknown[]) {
    const level = args[0];
    if (typeof level === 'string' && !this.isLevelEnabled(level)) return this;
    return originalLog.apply(this, args);
  };
  return logger;
}

/** A logger that drops everything: for tests. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
