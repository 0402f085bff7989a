// `tern acl` on its own (no daemon), the built binary inside a lab host: it keeps running,
// follows the file datastore (a policy removed from the file later is removed from the
// kernel), exits 0 on SIGTERM; `--once` exits non-zero when a policy is not honoured (a
// `services` rule, fail-closed) and says why, and exits 0 with a HostEndpoint of this node. Namespaces `tn-acl-<random>-*`, removed in teardown.
import t from 'tap';
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { createLab, type Lab } from '../../lab/netns.js';
import { TERN_BIN } from '../helpers/tern.js';

const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
const V3 = 'projectcalico.org/v3';

function wep(name: string, iface: string, ip: string, role: string): object {
  return {
    apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name, namespace: 'default', labels: { role } },
    spec: { node: 'host-a', orchestrator: 'k8s', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: ['kns.default'] },
  };
}

const PROFILE = { apiVersion: V3, kind: 'Profile', metadata: { name: 'kns.default' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } };
const DENY = {
  apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: 'deny-frontend' },
  spec: { order: 1, selector: "role == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "role == 'frontend'" } }, { action: 'Pass' }] },
};
const SERVICES = {
  apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: 'to-service' },
  spec: { order: 1, selector: "role == 'frontend'", types: ['Egress'], egress: [{ action: 'Allow', destination: { services: { name: 'db', namespace: 'default' } } }] },
};

/** `tern ARGS` inside the host's namespace: exit code and stderr. */
function ternIn(lab: Lab, host: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', lab.ns(host), process.execPath, TERN_BIN, ...args], { env: PLAIN_ENV, timeout: 30_000 }, (err, _out, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });
}

async function ping(lab: Lab, from: string, dst: string): Promise<boolean> {
  return / 1 received/.test((await lab.exec(from, 'ping', ['-c', '1', '-W', '1', dst], { allowFail: true })).stdout);
}

t.test('standalone tern acl follows the file datastore until signalled', async (t) => {
  const lab = createLab(t, { area: 'acl' });
  await lab.addHost('ha');
  const front = await lab.addPod('ha', 'frontend', '10.66.0.1');
  const db = await lab.addPod('ha', 'db', '10.66.0.2');
  const file = lab.path('calico.json');
  const write = (docs: object[]): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify(docs, null, 1));
    renameSync(`${file}.tmp`, file);
  };
  const base = [PROFILE, wep('frontend', front.hostIf, front.ip, 'frontend'), wep('db', db.hostIf, db.ip, 'db')];
  write([...base, DENY]);
  const table = async (): Promise<string> => (await lab.exec('ha', 'nft', ['list', 'table', 'inet', 'tern'], { allowFail: true })).stdout;

  const proc = lab.spawn('ha', TERN_BIN, ['acl', '--datastore', `file:${file}`, '--node', 'host-a', '--resync', '1', '--endpoint-to-host-action', 'Accept'], { env: PLAIN_ENV });
  await lab.waitFor(async () => (await table()).includes('chain tern-pi-deny-frontend'), { what: 'policy applied', timeoutMs: 20_000 });
  t.equal(await ping(lab, 'frontend', db.ip), false, 'deny-frontend drops frontend -> db');
  await new Promise((r) => setTimeout(r, 2500));
  t.ok(proc.running(), 'still running 2.5 s after the first apply');

  write(base);
  const t0 = Date.now();
  await lab.waitFor(async () => !(await table()).includes('tern-pi-deny-frontend'), { what: 'policy removed from the kernel', timeoutMs: 20_000 });
  t.comment(`removal reached the kernel ${Date.now() - t0} ms after the rename`);
  t.equal(await ping(lab, 'frontend', db.ip), true, 'policy removed from the file: frontend -> db passes');

  const chain = async (): Promise<string> => (await lab.exec('ha', 'nft', ['list', 'chain', 'inet', 'tern', `tern-tw-${db.hostIf}`], { allowFail: true })).stdout;
  await lab.exec('ha', 'nft', ['flush', 'chain', 'inet', 'tern', `tern-tw-${db.hostIf}`]);
  t.notMatch(await chain(), /jump tern-pri-kns\.default/, 'chain flushed behind tern\'s back');
  await lab.waitFor(async () => /jump tern-pri-kns\.default/.test(await chain()), { what: 'drift repaired by the resync', timeoutMs: 20_000 });
  t.ok(proc.running(), 'still running after the repair');

  await proc.kill('SIGTERM');
  t.same(await proc.exited, { code: 0, signal: null }, 'SIGTERM: clean exit 0');
  t.match(proc.log(), /aclRepaired/, 'the repair was logged');

  write([...base, SERVICES]);
  const once = await ternIn(lab, 'ha', ['acl', '--datastore', `file:${file}`, '--node', 'host-a', '--once']);
  t.equal(once.code, 1, '--once exits 1 when a policy is not honoured');
  t.match(once.stderr, /not honoured, fail-closed: GlobalNetworkPolicy to-service: .*services/);
  t.equal(await ping(lab, 'frontend', db.ip), false, 'the services rule denies (fail-closed) instead of allowing everything');
  // A HostEndpoint of this node is enforced, not reported: --once exits 0. Its interface does
  // not exist here, so no traffic of the lab is affected; the failsafe flag reaches the table.
  const hep = { apiVersion: V3, kind: 'HostEndpoint', metadata: { name: 'ha-unused', labels: { role: 'uplink' } }, spec: { node: 'host-a', interfaceName: 'tnunused0' } };
  write([...base, hep]);
  const withHep = await ternIn(lab, 'ha', ['acl', '--datastore', `file:${file}`, '--node', 'host-a', '--once', '--failsafe-inbound-host-ports', 'tcp:2222,udp:68']);
  t.equal(withHep.code, 0, `--once exits 0 with a HostEndpoint of this node (stderr: ${withHep.stderr})`);
  t.notMatch(withHep.stderr, /HostEndpoint/);
  const hepTable = await table();
  t.match(hepTable, /iifname "tnunused0" goto tern-hi-tnunused0/, 'host endpoint chains are installed');
  t.match(hepTable, /tcp dport 2222 accept/, '--failsafe-inbound-host-ports is applied');
  t.equal(await ping(lab, 'frontend', db.ip), true, 'workload traffic is unaffected by a host endpoint on another interface');
  write(base);
  const clean = await ternIn(lab, 'ha', ['acl', '--datastore', `file:${file}`, '--node', 'host-a', '--once', '--cleanup']);
  t.equal(clean.code, 0, '--once exits 0 when everything is honoured');
});
