// Password secrets: v1 Secret documents in a file datastore (stringData, base64 data), a
// secrets directory laid out as a mounted Secret volume, and the resolver that combines
// them. Secret values must never appear in an error message or in `list()` output.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDatastore, parseFileContent, parseResources } from '../../src/datastore/index.js';
import { RESOURCE_KINDS } from '../../src/datastore/types.js';
import { SecretsDirectory } from '../../src/datastore/secrets-dir.js';
import { secretResolver } from '../../src/config/secrets.js';
import { FakeClock } from '../../src/util/clock.js';
import { recorder } from './recorder.js';

const NODE = 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: node-1}\nspec: {bgp: {ipv4Address: 10.0.0.11/24}}\n';
const PEER = 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 10.0.0.1, asNumber: 65001, password: {secretKeyRef: {name: bgp-secrets, key: tor}}}\n';
const SECRET = (body: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: bgp-secrets, namespace: kube-system}\ntype: Opaque\n${body}`;
const VALUE = 'Pa55-w0rd-value';
const B64 = Buffer.from('from-data-field').toString('base64');

function tmpDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tern-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

t.test('a file datastore reads v1 Secrets: stringData and base64 data, stringData first', async (t) => {
  const text = `${NODE}---\n${PEER}---\n${SECRET(`stringData: {tor: ${VALUE}, both: plain}\ndata: {other: ${B64}, both: ${Buffer.from('coded').toString('base64')}}\n`)}`;
  const content = parseFileContent(text, 'ds.yaml');
  t.equal(content.resources.length, 2);
  t.equal(content.secrets.length, 1);
  const dir = tmpDir(t);
  const path = join(dir, 'ds.yaml');
  writeFileSync(path, text);
  const ds = new FileDatastore(path, { debounceMs: 20 });
  t.teardown(() => ds.close());
  const snap = await ds.load();
  const resolve = secretResolver(snap, undefined);
  t.same(resolve('bgp-secrets', 'tor'), { value: VALUE });
  t.same(resolve('bgp-secrets', 'other'), { value: 'from-data-field' });
  t.same(resolve('bgp-secrets', 'both'), { value: 'plain' });
  t.same(resolve('bgp-secrets', 'nope'), { missing: 'Secret bgp-secrets has no key nope' });
  t.same(resolve('absent', 'tor'), { missing: 'no Secret absent in the datastore and no secrets directory (--secrets-dir)' });
});

t.test('a changed Secret is a new snapshot; tern get (list) never shows Secrets', async (t) => {
  const dir = tmpDir(t);
  const path = join(dir, 'ds.yaml');
  writeFileSync(path, `${NODE}---\n${PEER}---\n${SECRET(`stringData: {tor: ${VALUE}}\n`)}`);
  const ds = new FileDatastore(path, { debounceMs: 20 });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  await ds.load();
  writeFileSync(path, `${NODE}---\n${PEER}---\n${SECRET('stringData: {tor: rotated}\n')}`);
  const next = await rec.change(1);
  t.same(secretResolver(next, undefined)('bgp-secrets', 'tor'), { value: 'rotated' });
  for (const kind of RESOURCE_KINDS) {
    const listed = JSON.stringify(await ds.list(kind));
    t.notOk(listed.includes('rotated') || listed.includes(VALUE), `list(${kind}) holds no secret value`);
  }
  // apply keeps the Secret document (and so the password) in the file.
  await ds.apply(parseResources(PEER.replace('65001', '65002'), 'x'));
  const after = await ds.load();
  t.same(secretResolver(after, undefined)('bgp-secrets', 'tor'), { value: 'rotated' });
});

t.test('bad Secrets are refused naming field and key, never the value', async (t) => {
  const bad64 = errorOf(() => parseFileContent(SECRET('data: {tor: "not*base64!"}\n'), 'ds.yaml'));
  t.equal(bad64, 'ds.yaml document 1 (Secret bgp-secrets): data.tor: must be base64 (the value is not shown)');
  const numeric = errorOf(() => parseFileContent(SECRET('stringData: {tor: 123456}\n'), 'ds.yaml'));
  t.equal(numeric, 'ds.yaml document 1 (Secret bgp-secrets): stringData.tor: must be a string (quote it; the value is not shown)');
  t.notMatch(numeric, /123456/);
  t.match(errorOf(() => parseFileContent(`${SECRET('stringData: {a: b}\n')}---\n${SECRET('stringData: {a: c}\n')}`, 'ds.yaml')), /document 2 \(Secret bgp-secrets\): metadata.name: duplicate of document 1/);
  t.match(errorOf(() => parseFileContent(SECRET('strinData: {a: b}\n'), 'ds.yaml')), /strinData: unknown field/);
  // `tern apply` (and etcd) take Calico resources only.
  t.match(errorOf(() => parseResources(SECRET(`stringData: {tor: ${VALUE}}\n`), 'in.yaml')),
    /^in\.yaml document 1 \(Secret\): v1 Secret documents are read from a file datastore only/);
});

t.test('secrets directory: DIR/<secret>/<key>, the volume layout of symlinks, changes seen by polling', async (t) => {
  const dir = tmpDir(t);
  // As the kubelet writes a Secret volume: ..data → timestamped dir; key → ..data/key.
  const writeVolume = (stamp: string, value: string) => {
    const vol = join(dir, 'bgp-secrets');
    mkdirSync(join(vol, stamp), { recursive: true });
    writeFileSync(join(vol, stamp, 'tor'), value);
    symlinkSync(stamp, join(vol, '..data_tmp'));
    renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
    try { symlinkSync('..data/tor', join(vol, 'tor')); } catch { /* exists from the first write */ }
  };
  writeVolume('..2026_01', VALUE);
  const clock = new FakeClock();
  const sd = new SecretsDirectory(dir, { clock, pollMs: 1000 });
  t.teardown(() => sd.close());
  t.same(sd.lookup('bgp-secrets', 'tor'), { value: VALUE });
  t.same(sd.lookup('bgp-secrets', '..data'), { missing: `no file ${join(dir, 'bgp-secrets', '..data')}` });
  t.same(sd.lookup('other', 'tor'), { missing: `no directory ${join(dir, 'other')}` });
  let changes = 0;
  sd.watch(() => changes++);
  clock.advance(1000);
  t.equal(changes, 0, 'no change, no callback');
  writeVolume('..2026_02', 'rotated');
  clock.advance(1000);
  t.equal(changes, 1);
  t.same(sd.lookup('bgp-secrets', 'tor'), { value: 'rotated' });
  // The resolver: a Secret in the datastore first, then the directory.
  const snap = await (async () => {
    const p = join(tmpDir(t), 'ds.yaml');
    writeFileSync(p, `${NODE}---\n${SECRET('stringData: {mesh: from-file}\n')}`);
    const ds = new FileDatastore(p);
    t.teardown(() => ds.close());
    return ds.load();
  })();
  const resolve = secretResolver(snap, sd);
  t.same(resolve('bgp-secrets', 'mesh'), { value: 'from-file' });
  t.same(resolve('bgp-secrets', 'tor'), { value: 'rotated' }, 'a key the Secret lacks comes from the directory');
  t.same(resolve('x', 'y'), { missing: `no directory ${join(dir, 'x')}` });
});
