// `tern daemon`: resolve flags and calico-node's environment, start the daemon, stop it
// cleanly on SIGTERM/SIGINT (Cease to every peer; kernel routes stay so forwarding goes on).
//
// Last resort: an exception or rejection nothing else caught (sessions, the RIB and the FIB
// contain their own) is logged with code ERR_UNCAUGHT and the process exits with status 70
// without touching the kernel: the routes stay installed, peers see the TCP connections
// close and keep our routes as stale (RFC 4724), and the restarted daemon adopts them.
import { Daemon } from '../daemon/index.js';
import { openDatastore } from '../datastore/index.js';
import { createLogger, type Logger, type LogLevel } from '../util/log.js';
import { systemClock } from '../util/clock.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import { DEFAULT_ENDPOINT_STATUS_PREFIX } from '../daemon/local-workloads.js';
import { envValue, logSettings, resolveDatastoreSpec, resolveEndpointToHostAction, resolveFailsafePorts, resolveNodeName, resolveSecretsDir } from '../settings/index.js';
import { resolveIdentity } from './identity.js';

export interface DaemonFlags {
  datastore?: string;
  node?: string;
  ip?: string;
  ip6?: string;
  socket: string;
  fib: boolean;
  acl?: boolean;
  logLevel?: string;
  staleTime: string;
  selectionDeferralTime: string;
  metricsListen?: string;
  secretsDir?: string;
}

export async function runDaemon(flags: DaemonFlags): Promise<void> {
  const level = flags.logLevel as LogLevel | undefined;
  if (level && !['error', 'warn', 'info', 'debug'].includes(level)) throw new ConfigError(`--log-level must be error, warn, info or debug (got "${level}")`);
  const logSetting = logSettings(level);
  const logger = createLogger({ json: logSetting.json, level: logSetting.level as LogLevel });
  installLastResortHandlers(logger);
  const staleSeconds = Number(flags.staleTime);
  if (!Number.isFinite(staleSeconds) || staleSeconds < 0) throw new ConfigError(`--stale-time must be a number of seconds (got "${flags.staleTime}")`);
  const deferralSeconds = Number(flags.selectionDeferralTime);
  if (!Number.isFinite(deferralSeconds) || deferralSeconds < 0) throw new ConfigError(`--selection-deferral-time must be a number of seconds (got "${flags.selectionDeferralTime}")`);

  const nodeName = resolveNodeName(flags.node);
  // Only this node's block affinities are read: nothing the daemon derives reads another's.
  const datastore = await openDatastore(resolveDatastoreSpec(flags.datastore), { logger, affinitiesOf: nodeName });
  const identity = resolveIdentity(flags);
  // The ACL companion's modules (nftables rendering, child processes) load only with --acl.
  const acl = flags.acl ? await import('../acl/hostendpoints.js') : null;
  const daemon = new Daemon({
    datastore,
    nodeName,
    identity,
    socketPath: flags.socket,
    fib: flags.fib,
    acl: flags.acl ?? false,
    ...(acl ? {
      aclEndpointToHostAction: resolveEndpointToHostAction(undefined),
      aclFailsafe: acl.failsafeOptions(resolveFailsafePorts(undefined, 'inbound'), resolveFailsafePorts(undefined, 'outbound')),
    } : {}),
    logLevelFixed: level !== undefined,
    staleTimeMs: staleSeconds * 1000,
    selectionDeferralMs: deferralSeconds * 1000,
    metricsListen: flags.metricsListen,
    advertiseClusterIPs: envValue('CALICO_ADVERTISE_CLUSTER_IPS'),
    endpointStatusPrefix: envValue('CALICO_ENDPOINT_STATUS_PATH_PREFIX') ?? DEFAULT_ENDPOINT_STATUS_PREFIX,
    ...(envValue('TERN_ENDPOINT_STATUS_POLL_MS') ? { endpointStatusPollMs: Number(envValue('TERN_ENDPOINT_STATUS_POLL_MS')) } : {}),
    secretsDir: resolveSecretsDir(flags.secretsDir),
    logger,
    clock: systemClock,
  });

  try {
    await daemon.start();
  } catch (err) {
    await daemon.stop().catch(() => undefined);
    throw err;
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { event: 'shutdown', signal: sig });
      daemon.stop().then(resolve, (err) => {
        logger.error('shutdown failed', { event: 'shutdownError', error: errorMessage(err) });
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Exit status after an uncaught exception (EX_SOFTWARE). */
export const UNCAUGHT_EXIT_STATUS = 70;

function installLastResortHandlers(logger: Logger): void {
  let exiting = false;
  const fatal = (kind: 'uncaughtException' | 'unhandledRejection', err: unknown) => {
    try {
      logger.error('uncaught error: exiting, kernel routes left in place', { event: kind, code: 'ERR_UNCAUGHT', error: errorMessage(err), stack: (err as Error | undefined)?.stack });
    } catch {
      process.stderr.write(`ERR_UNCAUGHT ${kind}: ${errorMessage(err)}\n`);
    }
    if (exiting) return;
    exiting = true;
    // A moment for the log line to be written; no stop(): routes and kernel state stay.
    setTimeout(() => process.exit(UNCAUGHT_EXIT_STATUS), 200).unref();
    process.exitCode = UNCAUGHT_EXIT_STATUS;
  };
  process.on('uncaughtException', (err) => fatal('uncaughtException', err));
  process.on('unhandledRejection', (reason) => fatal('unhandledRejection', reason));
}
