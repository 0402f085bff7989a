// Command implementations for `tern acl` (the standalone companion) and
// `tern acl explain SRC DST [PROTO/PORT]`. They take parsed arguments and a snapshot source;
// src/cli wires them into commander and prints what they return.
import type { Snapshot } from '../model/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { AclCompanion } from './companion.js';
import type { AclProblem } from './model.js';
import type { EndpointToHostAction, RenderOptions } from './render.js';
import { FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, type FailsafePort } from './hostendpoints.js';
import { explain, type ExplainResult } from './explain.js';
import { NftCommand, type NftRunner } from './nft.js';
import { IpAddrCommand } from './interfaces.js';

/** The part of a Datastore the companion needs (src/datastore's Datastore fits). */
export interface AclSource {
  load(): Promise<Snapshot>;
  onChange(cb: (s: Snapshot) => void): void;
  close?(): Promise<void> | void;
}

export interface AclRunArgs {
  /** This node's name: only its WorkloadEndpoints get chains. */
  readonly node: string;
  /** Delete table inet tern on exit (default: keep it, as Felix does). */
  readonly cleanup?: boolean;
  /** Seconds between live-table checks (default 10). */
  readonly resyncSeconds?: number;
  /** Apply once and exit (no watch, no resync). */
  readonly once?: boolean;
  /** Program nft inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  /** Felix's DefaultEndpointToHostAction (default Drop). */
  readonly endpointToHostAction?: EndpointToHostAction;
  /** Felix's FailsafeInboundHostPorts / FailsafeOutboundHostPorts (default: Felix's lists). */
  readonly failsafeInbound?: readonly FailsafePort[];
  readonly failsafeOutbound?: readonly FailsafePort[];
}

export interface AclRunDeps {
  readonly source: AclSource;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly nft?: NftRunner;
  /** Stops the companion when aborted; without it SIGINT/SIGTERM do. */
  readonly signal?: AbortSignal;
}

/**
 * `tern acl --datastore … --node NAME [--cleanup] [--once]`: loads the snapshot, programs
 * this node's endpoints, follows datastore changes until stopped. Resolves after stop.
 */
export async function runAclCompanion(args: AclRunArgs, deps: AclRunDeps): Promise<{ problems: readonly AclProblem[]; lastError: string | null }> {
  const companion = new AclCompanion({
    nodeName: args.node,
    logger: deps.logger,
    clock: deps.clock ?? systemClock,
    nft: deps.nft ?? new NftCommand(args.netns ? { netns: args.netns } : {}),
    interfaces: new IpAddrCommand(args.netns ? { netns: args.netns } : {}),
    resyncMs: Number.isFinite(args.resyncSeconds) && args.resyncSeconds! >= 1 ? args.resyncSeconds! * 1000 : 10_000,
    render: renderOptions(args),
  });
  // Signals are caught from the start: a SIGTERM during the first load still stops cleanly.
  const stop = stopSignal(deps.signal);
  try {
    if (!args.once) deps.source.onChange((s) => companion.update(s));
    const first = await deps.source.load();
    companion.update(first);
    companion.start();
    if (!args.once) await stop.wait;
    await companion.idle();
    const status = companion.status();
    await companion.stop({ cleanup: args.cleanup === true });
    return { problems: status.problems, lastError: status.lastError };
  } finally {
    stop.dispose();
    await deps.source.close?.();
  }
}

function renderOptions(args: AclRunArgs): RenderOptions {
  return {
    ...(args.endpointToHostAction ? { endpointToHostAction: args.endpointToHostAction } : {}),
    ...(args.failsafeInbound ? { failsafeInbound: args.failsafeInbound } : {}),
    ...(args.failsafeOutbound ? { failsafeOutbound: args.failsafeOutbound } : {}),
  };
}

/**
 * Resolves on abort (or SIGINT/SIGTERM without a signal). Holds a ref'd timer meanwhile: the
 * datastore watchers and nft timers are unref'd, so without it Node would exit after the
 * first apply.
 */
function stopSignal(signal: AbortSignal | undefined): { wait: Promise<void>; dispose: () => void } {
  let keepAlive: NodeJS.Timeout | null = null;
  let done = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    keepAlive = setInterval(() => undefined, 1 << 30);
    done = (): void => {
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = null;
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    if (signal) {
      if (signal.aborted) done();
      else signal.addEventListener('abort', done, { once: true });
      return;
    }
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  return { wait, dispose: () => done() };
}

export interface AclExplainArgs {
  /** "namespace/name" of a WorkloadEndpoint, or an IP address. */
  readonly src: string;
  readonly dst: string;
  /** "tcp/5432", "udp/53", "icmp", "icmp/8/0" …; default ICMP echo (ping). */
  readonly flow?: string;
  readonly json?: boolean;
  /** Felix's DefaultEndpointToHostAction, for flows from a workload to its own node (default Drop). */
  readonly endpointToHostAction?: EndpointToHostAction;
  /** Failsafe ports for flows to and from a host endpoint (default: Felix's lists). */
  readonly failsafeInbound?: readonly FailsafePort[];
  readonly failsafeOutbound?: readonly FailsafePort[];
}

/**
 * `tern acl explain SRC DST [PROTO/PORT]`: which policy and rule decide the flow, egress of
 * SRC then ingress of DST. Returns the text to print (JSON with `json`) and the verdict.
 */
export async function runAclExplain(args: AclExplainArgs, loadSnapshot: () => Promise<Snapshot>): Promise<{ text: string; allowed: boolean; result: ExplainResult }> {
  const snap = await loadSnapshot();
  const failsafe = args.failsafeInbound || args.failsafeOutbound
    ? { inbound: args.failsafeInbound ?? FAILSAFE_INBOUND, outbound: args.failsafeOutbound ?? FAILSAFE_OUTBOUND } : undefined;
  const result = explain(snap, args.src, args.dst, args.flow, args.endpointToHostAction, failsafe);
  const text = args.json ? JSON.stringify(result, null, 2) : result.text;
  return { text: text + '\n', allowed: result.allowed, result };
}
