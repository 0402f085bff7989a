// etcd inside a lab namespace, so that tern daemons in other namespaces of the same fabric
// reach it at its fabric address (the loopback launcher in etcd.ts is not reachable from
// other namespaces). Data lives in the lab directory; the lab kills it at teardown.
import { mkdirSync } from 'node:fs';
import type { Lab, ProcHandle } from './netns.js';

export interface LabEtcd {
  readonly endpoint: string;
  readonly proc: ProcHandle;
  stop(): Promise<void>;
  /** Starts it again on the same data dir (after stop()). */
  start(): Promise<void>;
}

export async function startLabEtcd(lab: Lab, host: string, address: string, port = 2379): Promise<LabEtcd> {
  const dataDir = lab.path(`etcd-${host}`);
  mkdirSync(dataDir, { recursive: true });
  const endpoint = `http://${address}:${port}`;
  const args = [
    '--name', 'default', '--data-dir', dataDir,
    '--listen-client-urls', `${endpoint},http://127.0.0.1:${port}`, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1}`,
    '--initial-cluster', `default=http://127.0.0.1:${port + 1}`,
  ];
  const launch = async (): Promise<ProcHandle> => {
    const proc = lab.spawn(host, 'etcd', args, { logFile: lab.path(`etcd-${host}.log`) });
    await lab.waitFor(async () => {
      const r = await lab.exec(host, 'etcdctl', ['--endpoints', endpoint, 'endpoint', 'health'], { allowFail: true, env: { ...process.env, ETCDCTL_API: '3' } });
      return /is healthy/.test(r.stdout + r.stderr) ? true : null;
    }, { what: `etcd healthy at ${endpoint}`, timeoutMs: 30_000, intervalMs: 250 });
    return proc;
  };
  let proc = await launch();
  return {
    endpoint,
    get proc() { return proc; },
    stop: () => proc.kill('SIGTERM', 5000),
    async start() { proc = await launch(); },
  };
}
