// Structured logging through winston. One root logger; modules take child loggers with
// their bindings (peer, localAs, peerAs, ...) and log named events, never per-route lines
// on hot paths.
import winston from 'winston';
import { skipDisabledLevels } from '../runtime/log-levels.js';

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
  const json = opts.json ?? false;
  return skipDisabledLevels(winston.createLogger({
    level: opts.level ?? 'info',
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

/** A logger that drops everything: for tests. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
