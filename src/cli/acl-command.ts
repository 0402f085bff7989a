// `tern acl …`: the ACL companion on its own (`tern acl --datastore … --node NAME`) and the
// flow explainer (`tern acl explain SRC DST [PROTO/PORT]`). The work is in src/acl/cli.ts.
// The work modules are imported inside the actions: `tern` loads only what its command runs.
import type { Command } from 'commander';
import type { LogLevel } from '../util/log.js';
import { logSettings, resolveDatastoreSpec, resolveEndpointToHostAction, resolveFailsafePorts, resolveNodeName } from '../settings/index.js';

export function registerAclCommands(program: Command): void {
  const acl = program
    .command('acl')
    .description('ACL companion: Calico-style policy for this node\'s endpoints, rendered to nftables')
    .option('--datastore <spec>', 'file:PATH or etcd:URL[,URL...]')
    .option('--node <name>', 'this node\'s name (env: NODENAME)')
    .option('--cleanup', 'remove tern\'s nftables table on exit (default: keep it, as Felix does)')
    .option('--once', 'apply once and exit (non-zero when a resource is not honoured or the apply failed)')
    .option('--endpoint-to-host-action <action>', 'Drop | Accept | Return after a workload\'s egress policy, for traffic to this host (env: FELIX_DEFAULTENDPOINTTOHOSTACTION; default Drop)')
    .option('--failsafe-inbound-host-ports <list>', 'PROTOCOL:PORT,… always open to this host, whatever host endpoint policy says, or none (env: FELIX_FAILSAFEINBOUNDHOSTPORTS; default Felix\'s list)')
    .option('--failsafe-outbound-host-ports <list>', 'PROTOCOL:PORT,… this host may always reach, or none (env: FELIX_FAILSAFEOUTBOUNDHOSTPORTS; default Felix\'s list)')
    .option('--resync <seconds>', 'seconds between checks of the live table', '10')
    .option('--log-level <level>', 'error | warn | info | debug', 'info')
    .action(async (opts) => {
      const [{ runAclCompanion }, { openDatastore }, { createLogger }, { failsafeOptions }] = await Promise.all([
        import('../acl/cli.js'), import('../datastore/index.js'), import('../util/log.js'), import('../acl/hostendpoints.js'),
      ]);
      const failsafe = failsafeOptions(resolveFailsafePorts(opts.failsafeInboundHostPorts, 'inbound'), resolveFailsafePorts(opts.failsafeOutboundHostPorts, 'outbound'));
      const logger = createLogger({ ...logSettings(opts.logLevel), level: opts.logLevel as LogLevel });
      const datastore = openDatastore(resolveDatastoreSpec(opts.datastore), { logger });
      const result = await runAclCompanion(
        {
          node: resolveNodeName(opts.node), cleanup: opts.cleanup === true, once: opts.once === true, resyncSeconds: Number(opts.resync),
          endpointToHostAction: resolveEndpointToHostAction(opts.endpointToHostAction), ...failsafe,
        },
        { source: datastore, logger },
      );
      for (const p of result.problems) process.stderr.write(`tern acl: not honoured, fail-closed: ${p.kind} ${p.key}: ${p.reason}\n`);
      if (result.lastError) process.stderr.write(`tern acl: last error: ${result.lastError}\n`);
      if (result.problems.length > 0 || result.lastError) process.exitCode = 1;
    });

  acl
    .command('explain')
    .description('which policy and rule decide a flow between two endpoints')
    .argument('<src>', 'endpoint "namespace/name" or IP')
    .argument('<dst>', 'endpoint "namespace/name" or IP')
    .argument('[flow]', 'tcp/5432, udp/53, icmp, icmp/8/0 … (default: ping)')
    .option('--datastore <spec>', 'file:PATH or etcd:URL[,URL...]')
    .option('--json', 'print JSON')
    .action(async (src: string, dst: string, flow: string | undefined, opts) => {
      const [{ runAclExplain }, { openDatastore }, { failsafeOptions }] = await Promise.all([
        import('../acl/cli.js'), import('../datastore/index.js'), import('../acl/hostendpoints.js'),
      ]);
      const failsafe = failsafeOptions(
        resolveFailsafePorts(acl.opts().failsafeInboundHostPorts, 'inbound'), resolveFailsafePorts(acl.opts().failsafeOutboundHostPorts, 'outbound'));
      const datastore = openDatastore(resolveDatastoreSpec(opts.datastore ?? acl.opts().datastore));
      try {
        const out = await runAclExplain(
          { src, dst, ...(flow ? { flow } : {}), json: opts.json === true, endpointToHostAction: resolveEndpointToHostAction(acl.opts().endpointToHostAction), ...failsafe },
          () => datastore.load(),
        );
        process.stdout.write(out.text);
      } finally {
        await datastore.close();
      }
    });
}
