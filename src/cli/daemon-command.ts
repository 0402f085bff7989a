// `tern daemon`: resolve flags and calico-node's environment, start the daemon, stop it
// cleanly on SIGTERM/SIGINT (Cease to every peer; kernel routes stay so forwarding goes on).
import { Daemon } from '../daemon/index.js';
import { holdYoungGeneration } from '../runtime/v8-flags.js';
import { openDatastore } from '../datastore/index.js';
import { createLogger, type LogLevel } from '../util/log.js';
import { systemClock } from '../util/clock.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import {
  addressSetting, autodetects, logSettings, resolveAddressFlag, resolveDatastoreSpec, resolveEndpointToHostAction, resolveNodeName,
} from '../settings/index.js';

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
}

export async function runDaemon(flags: DaemonFlags): Promise<void> {
  const level = flags.logLevel as LogLevel | undefined;
  if (level && !['error', 'warn', 'info', 'debug'].includes(level)) throw new ConfigError(`--log-level must be error, warn, info or debug (got "${level}")`);
  const logSetting = logSettings(level);
  const logger = createLogger({ json: logSetting.json, level: logSetting.level as LogLevel });
  const staleSeconds = Number(flags.staleTime);
  if (!Number.isFinite(staleSeconds) || staleSeconds < 0) throw new ConfigError(`--stale-time must be a number of seconds (got "${flags.staleTime}")`);
  const deferralSeconds = Number(flags.selectionDeferralTime);
  if (!Number.isFinite(deferralSeconds) || deferralSeconds < 0) throw new ConfigError(`--selection-deferral-time must be a number of seconds (got "${flags.selectionDeferralTime}")`);

  const datastore = await openDatastore(resolveDatastoreSpec(flags.datastore), { logger });
  const ipSetting = addressSetting('ipv4', flags.ip);
  const ip6Setting = addressSetting('ipv6', flags.ip6);
  const daemon = new Daemon({
    datastore,
    nodeName: resolveNodeName(flags.node),
    ipv4: resolveAddressFlag(ipSetting),
    ipv6: resolveAddressFlag(ip6Setting),
    autodetectIpv4: autodetects('ipv4', ipSetting),
    autodetectIpv6: autodetects('ipv6', ip6Setting),
    socketPath: flags.socket,
    fib: flags.fib,
    acl: flags.acl ?? false,
    ...(flags.acl ? { aclEndpointToHostAction: resolveEndpointToHostAction(undefined) } : {}),
    logLevelFixed: level !== undefined,
    staleTimeMs: staleSeconds * 1000,
    selectionDeferralMs: deferralSeconds * 1000,
    metricsListen: flags.metricsListen,
    logger,
    clock: systemClock,
  });

  holdYoungGeneration(); // src/runtime: memory after bursts
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
