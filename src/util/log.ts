// Structured logging through winston. One root logger; modules take child loggers with
// their bindings (peer, localAs, peerAs, ...) and log named events, never per-route lines
// on hot paths.
//
// The loggers handed out are thin: they hold the level and the bindings, return at once for
// a line below the level, and create winston (the package, its root logger, each child)
// only for the first line that is written. A daemon at level warn or error writes no line
// during a normal start, so it never evaluates winston and its dependencies (about a fifth
// of the bundle; measured: docs/benchmarks.md, round 2, start-up and idle RSS).
//
// Invariants
// - What is written, and its format, is winston's: a line goes to winston's logger (or a
//   winston child with the merged bindings, inner bindings winning) exactly as before.
// - The level is the root's: children read it at each call, so a level set at run time
//   (BGPConfiguration logSeverityScreen) applies to every logger at once.
// - Loading is synchronous (the bundle's own copy of winston, or node_modules when run
//   unbundled): lines keep their order and a line logged just before an exit is written.
import { createRequire } from 'node:module';
import type winston from 'winston';

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

/** What tern's modules use of a logger (winston's npm levels; meta is merged into the line). */
export interface Logger {
  /** The root's level; setting it on any logger sets the root's. */
  level: string;
  isLevelEnabled(level: string): boolean;
  error(message: string, meta?: object): Logger;
  warn(message: string, meta?: object): Logger;
  info(message: string, meta?: object): Logger;
  debug(message: string, meta?: object): Logger;
  log(level: string, message: string, meta?: object): Logger;
  log(entry: { level: string; message: string; [key: string]: unknown }): Logger;
  child(bindings: Record<string, unknown>): Logger;
}

/** winston's npm levels, most severe first (winston numbers them the same way). */
const RANK: Readonly<Record<string, number>> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

/** The winston package: in the bundle, its own lazily evaluated copy; unbundled, from node_modules. */
function winstonPackage(): typeof winston {
  // esbuild bundles require('winston') as a module evaluated on this first call; the ES
  // module build (tests, dist/ without the bundle) has no require and goes through createRequire.
  return (typeof require === 'function' ? require('winston') : createRequire(import.meta.url)('winston')) as typeof winston;
}

interface RootOptions { level: string; json: boolean; silent: boolean; stream: NodeJS.WritableStream }

class Root {
  level: string;
  private logger: winston.Logger | undefined;
  constructor(readonly opts: RootOptions) {
    this.level = opts.level;
  }

  enabled(level: string): boolean {
    return !this.opts.silent && (RANK[level] ?? Infinity) <= (RANK[this.level] ?? -1);
  }

  /** winston's root logger, created on first use. */
  winston(): winston.Logger {
    if (this.logger) return this.logger;
    const w = winstonPackage();
    const logger = w.createLogger({
      level: this.level,
      format: this.opts.json
        ? w.format.combine(w.format.timestamp(), w.format.json())
        : w.format.combine(
            w.format.timestamp(),
            w.format.printf((info) => {
              const { level, message, timestamp, ...rest } = info;
              const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
              return `${String(timestamp)} ${level} ${String(message)}${extra}`;
            }),
          ),
      transports: [new w.transports.Stream({ stream: this.opts.stream })],
    });
    this.logger = logger;
    return logger;
  }

  setLevel(level: string): void {
    this.level = level;
    if (this.logger) this.logger.level = level;
  }
}

class LazyLogger implements Logger {
  /** The winston logger this one writes through (the root, or a child with `bindings`). */
  private target: winston.Logger | undefined;

  constructor(private readonly root: Root, private readonly bindings: Record<string, unknown> | undefined) {}

  get level(): string { return this.root.level; }
  set level(level: string) { this.root.setLevel(level); }

  isLevelEnabled(level: string): boolean {
    return this.root.enabled(level);
  }

  error(message: string, meta?: object): Logger { return this.write('error', message, meta); }
  warn(message: string, meta?: object): Logger { return this.write('warn', message, meta); }
  info(message: string, meta?: object): Logger { return this.write('info', message, meta); }
  debug(message: string, meta?: object): Logger { return this.write('debug', message, meta); }

  log(level: string | { level: string; message: string }, message?: string, meta?: object): Logger {
    if (typeof level === 'object') {
      if (this.root.enabled(level.level)) this.winston().log(level as winston.LogEntry);
      return this;
    }
    return this.write(level, message ?? '', meta);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new LazyLogger(this.root, this.bindings ? { ...this.bindings, ...bindings } : { ...bindings });
  }

  private write(level: string, message: string, meta: object | undefined): Logger {
    if (!this.root.enabled(level)) return this;
    const w = this.winston();
    if (meta === undefined) w.log(level, message);
    else w.log(level, message, meta);
    return this;
  }

  private winston(): winston.Logger {
    return (this.target ??= this.bindings ? this.root.winston().child(this.bindings) : this.root.winston());
  }
}

export function createLogger(opts: { level?: LogLevel; json?: boolean; silent?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  return new LazyLogger(new Root({ level: opts.level ?? 'info', json: opts.json ?? false, silent: opts.silent ?? false, stream: opts.stream ?? process.stderr }), undefined);
}

/** A logger that drops everything: for tests. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
