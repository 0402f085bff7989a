// The `tern` command line. Thin: every subcommand parses its flags with commander and calls
// one function (daemon, control-socket client, datastore, ACL). Exit codes: 0 ok, 1 the
// operation failed (bad input, daemon unreachable), 2 usage error.
//
// Start-up cost matters (twenty daemons starting at once on two cores queue for CPU), so
// each action imports its own modules: `tern status` never loads the daemon, the daemon
// never loads the table renderer or the YAML writer.
import '../util/startup.js'; // first: its mark is the start of our own code (Node booted, bundle read)
import { Command, CommanderError } from 'commander';
import { DEFAULT_SOCKET, callDaemon } from '../api/control.js';
import type { RoutesReply, StatusReply } from '../api/types.js';
import type { HealthReply, HealthVerdict } from '../api/health.js';
import { registerAclCommands } from './acl-command.js';
import { resolveSocket } from '../settings/index.js';
import { DaemonError, errorMessage } from '../util/errors.js';

function socketOf(opts: { socket?: string }): string {
  return resolveSocket(opts.socket, DEFAULT_SOCKET);
}

/** A probe that printed its verdict and must exit 1. */
class ProbeFailed extends Error {}

export function buildProgram(): Command {
  const program = new Command('tern')
    .description('BGP route distribution for container and VM networks (Calico-compatible)')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('daemon')
    .description('run the BGP speaker, FIB sync and control socket for one node')
    .option('--datastore <spec>', 'file:PATH or etcd:URL[,URL...] (env: DATASTORE_TYPE, ETCD_ENDPOINTS)')
    .option('--node <name>', 'this node\'s name (env: NODENAME)')
    .option('--ip <addr/len>', 'this node\'s IPv4 address with prefix length (env: IP)')
    .option('--ip6 <addr/len>', 'this node\'s IPv6 address with prefix length (env: IP6)')
    .option('--socket <path>', 'control socket path', undefined)
    .option('--no-fib', 'never read or write the kernel\'s routes (dedicated route reflector)')
    .option('--acl', 'also run the ACL companion (nftables) for this node\'s endpoints')
    .option('--log-level <level>', 'error | warn | info | debug (default: BGPConfiguration logSeverityScreen)')
    .option('--stale-time <seconds>', 'keep adopted kernel routes at most this long after start', '120')
    .option('--selection-deferral-time <seconds>', 'after a restart, wait at most this long for peers\' End-of-RIB before advertising (RFC 4724)', '240')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
    .option('--secrets-dir <dir>', 'password secrets as a mounted Secret volume: DIR/<secret name>/<key> (env: TERN_SECRETS_DIR)')
    .action(async (opts) => {
      const { runDaemon } = await import('./daemon-command.js');
      await runDaemon({ ...opts, socket: socketOf(opts) });
    });

  program
    .command('status')
    .description('BGP sessions, as `calicoctl node status` shows them')
    .option('--socket <path>', 'control socket path')
    .option('--json', 'print JSON: {"peers":[…]}')
    .option('-w, --wide', 'add RR CLIENT, RECEIVED and ADVERTISED columns')
    .action(async (opts) => {
      const reply = await callDaemon<StatusReply>(socketOf(opts), 'status');
      const { renderStatus } = await import('./status-table.js');
      if (opts.json) process.stdout.write(JSON.stringify({ peers: reply.peers, daemon: reply.daemon }, null, 2) + '\n');
      else process.stdout.write(renderStatus(reply.peers, new Date(), opts.wide === true) + (reply.daemon.errors.length ? `\nErrors:\n${reply.daemon.errors.map((e) => `  ${e}`).join('\n')}\n` : ''));
    });

  program
    .command('routes')
    .description('the Loc-RIB: every path, the best one marked, and its kernel state')
    .option('--socket <path>', 'control socket path')
    .option('--json', 'print JSON: {"routes":[…]}')
    .action(async (opts) => {
      const reply = await callDaemon<RoutesReply>(socketOf(opts), 'routes');
      const { renderRoutes } = await import('./routes-table.js');
      if (opts.json) process.stdout.write(JSON.stringify(reply, null, 2) + '\n');
      else process.stdout.write(renderRoutes(reply.routes));
    });

  program
    .command('health')
    .description('probes, as calico-node -bird-live / -bird-ready: exit 0 (healthy) or 1, one line saying why')
    .option('--live', 'the daemon answers within the timeout and its BGP listener is open')
    .option('--ready', 'BGP running, first snapshot applied, every configured peer Established, not in restart recovery')
    .option('--socket <path>', 'control socket path')
    .option('--timeout <seconds>', 'how long to wait for the daemon\'s answer', '5')
    .action(async (opts: { live?: boolean; ready?: boolean; socket?: string; timeout: string }) => {
      if (!opts.live === !opts.ready) program.error('tern health: give exactly one of --live or --ready', { exitCode: 2 });
      const what = opts.live ? 'live' : 'ready';
      const timeoutMs = Number(opts.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) program.error(`tern health: --timeout must be a number of seconds (got "${opts.timeout}")`, { exitCode: 2 });
      let verdict: HealthVerdict;
      try {
        const reply = await callDaemon<HealthReply>(socketOf(opts), 'health', {}, timeoutMs);
        verdict = opts.live ? reply.live : reply.ready;
      } catch (err) {
        verdict = { ok: false, reason: `not ${what}: ${errorMessage(err)}` };
      }
      process.stdout.write(`${verdict.reason}\n`);
      if (!verdict.ok) throw new ProbeFailed();
    });

  program
    .command('metrics')
    .description('Prometheus metrics of the running daemon')
    .option('--socket <path>', 'control socket path')
    .action(async (opts) => {
      process.stdout.write(await callDaemon<string>(socketOf(opts), 'metrics'));
    });

  program
    .command('apply')
    .description('store resources (multi-document YAML or JSON, projectcalico.org/v3)')
    .requiredOption('-f, --filename <file>', 'file to read ("-" for stdin)')
    .option('--datastore <spec>', 'file:PATH or etcd:URL[,URL...]')
    .action(async (opts) => (await import('./resource-commands.js')).applyCommand(opts));

  program
    .command('get')
    .description('list stored resources of a kind')
    .argument('<kind>', 'node, bgppeer, ippool, blockaffinity, bgpconfiguration, …')
    .argument('[name]', 'one resource')
    .option('-o, --output <format>', 'yaml | json', 'yaml')
    .option('-n, --namespace <ns>', 'namespace for namespaced kinds')
    .option('--datastore <spec>', 'file:PATH or etcd:URL[,URL...]')
    .action(async (kind, name, opts) => (await import('./resource-commands.js')).getCommand(kind, name, opts));

  program
    .command('delete')
    .description('delete a stored resource')
    .argument('<kind>')
    .argument('<name>')
    .option('-n, --namespace <ns>', 'namespace for namespaced kinds')
    .option('--datastore <spec>', 'file:PATH or etcd:URL[,URL...]')
    .action(async (kind, name, opts) => (await import('./resource-commands.js')).deleteCommand(kind, name, opts));

  registerAclCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ProbeFailed) return 1;
    const code = err instanceof DaemonError ? ` [${err.code}]` : '';
    process.stderr.write(`tern: ${errorMessage(err)}${code}\n`);
    return 1;
  }
}

// `tern daemon` resolves only once the daemon has shut down. A command that set its own exit
// code (`tern acl` with problems) keeps it; an error's code wins over it.
void main(process.argv).then((code) => {
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
});
