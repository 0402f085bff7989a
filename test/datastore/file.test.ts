// File datastore on a real filesystem: load, watch (in-place write, rename replacement),
// invalid edits keep the last good snapshot, apply/delete keep other documents verbatim.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/util/errors.js';
import { FileDatastore, openDatastore, type Resource, type Snapshot } from '../../src/datastore/index.js';
import { recorder } from './recorder.js';

const HEAD = 'apiVersion: projectcalico.org/v3\n';
const NODE = `# the first node\n${HEAD}kind: Node\nmetadata: {name: node-1}\nspec:\n  bgp: {ipv4Address: 10.0.0.11/24}   # keep me\n`;
const POOL = `${HEAD}kind: IPPool\nmetadata:\n  name: pool-1\nspec:\n  cidr: 10.244.0.0/16\n  ipipMode: Always\n`;
const PEER = `# rack switch\n${HEAD}kind: BGPPeer\nmetadata: {name: tor-1}\nspec: {peerIP: 10.0.0.1, asNumber: 65001}\n`;

function tmpFile(t: Test, text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tern-ds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'resources.yaml');
  if (text !== undefined) writeFileSync(path, text);
  return path;
}

async function open(t: Test, path: string): Promise<{ ds: FileDatastore; first: Snapshot; rec: ReturnType<typeof recorder> }> {
  const ds = new FileDatastore(path, { debounceMs: 30 });
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  const first = await ds.load();
  return { ds, first, rec };
}

t.test('load: a valid file gives a snapshot; an invalid or missing one refuses to start', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}---\n${PEER}`);
  const { first } = await open(t, path);
  t.same([...first.nodes.keys()], ['node-1']);
  t.equal(first.ipPools.get('pool-1')?.spec.blockSize, 26);
  t.equal(first.bgpPeers.get('tor-1')?.spec.asNumber, 65001);
  t.throws(() => (first.nodes as Map<string, unknown>).set('x', {}), { code: 'ERR_SNAPSHOT_IMMUTABLE' });
  t.ok(Object.isFrozen(first.nodes.get('node-1')?.spec), 'resources are frozen');

  const bad = tmpFile(t, `${NODE}---\n${PEER.replace('65001', '0')}`);
  const ds = openDatastore(`file:${bad}`);
  await t.rejects(ds.load(), { name: 'ConfigError', message: `${bad} document 2 (BGPPeer tor-1): spec.asNumber: must be an integer 1..4294967295, got 0` });
  await ds.close();

  const missing = new FileDatastore(join(tmpFile(t), 'nope.yaml'));
  await t.rejects(missing.load(), { code: 'ERR_DATASTORE_FILE_MISSING' });
});

t.test('change by in-place write is picked up', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const { first, rec } = await open(t, path);
  writeFileSync(path, `${NODE}---\n${POOL}---\n${PEER}`);
  const s = await rec.change(1);
  t.ok(s.revision > first.revision, 'revision increases');
  t.same([...s.bgpPeers.keys()], ['tor-1']);
});

t.test('change by rename (write tmp + mv) is picked up, and later writes too', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const { rec } = await open(t, path);
  const tmp = `${path}.new`;
  writeFileSync(tmp, `${NODE}---\n${POOL.replace('Always', 'CrossSubnet')}`);
  renameSync(tmp, path);
  const s1 = await rec.change(1);
  t.equal(s1.ipPools.get('pool-1')?.spec.ipipMode, 'CrossSubnet');
  // The file watch must follow the new inode: an in-place write after the rename is seen.
  writeFileSync(path, `${NODE}---\n${POOL.replace('Always', 'Never')}`);
  const s2 = await rec.change(2);
  t.equal(s2.ipPools.get('pool-1')?.spec.ipipMode, 'Never');
  t.ok(s2.revision > s1.revision);
});

t.test('a rename is read at once (no quiet period); unchanged documents keep their objects', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const ds = new FileDatastore(path, { debounceMs: 600_000 }); // only the rename path can deliver in time
  t.teardown(() => ds.close());
  const rec = recorder(ds);
  const first = await ds.load();
  writeFileSync(`${path}.new`, `${NODE}---\n${POOL.replace('Always', 'CrossSubnet')}`);
  renameSync(`${path}.new`, path);
  const s = await rec.change(1);
  t.equal(s.ipPools.get('pool-1')?.spec.ipipMode, 'CrossSubnet');
  t.equal(s.nodes.get('node-1'), first.nodes.get('node-1'), 'the unchanged Node is the same object');
});

t.test('removed, then created again in place: the new file and later in-place writes are seen', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const { rec } = await open(t, path);
  rmSync(path);
  await rec.error(1);
  writeFileSync(path, `${NODE}---\n${POOL.replace('Always', 'CrossSubnet')}`);
  const s1 = await rec.change(1);
  t.equal(s1.ipPools.get('pool-1')?.spec.ipipMode, 'CrossSubnet');
  // The file watch is on the new inode (re-armed once); in-place writes keep reaching it.
  for (const [i, mode] of (['Never', 'Always', 'CrossSubnet'] as const).entries()) {
    writeFileSync(path, `${NODE}---\n${POOL.replace('Always', mode)}`);
    const s = await rec.change(2 + i);
    t.equal(s.ipPools.get('pool-1')?.spec.ipipMode, mode);
  }
});

t.test('an invalid edit keeps the last good snapshot and is reported once', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const { first, rec } = await open(t, path);
  writeFileSync(path, `${NODE}---\n${POOL.replace('10.244.0.0/16', '10.244.1.0/16')}`);
  const err = await rec.error(1);
  t.type(err, ConfigError);
  t.equal(err.message, `${path} document 2 (IPPool pool-1): spec.cidr: "10.244.1.0/16" has host bits set (did you mean "10.244.0.0/16"?)`);
  t.equal(rec.changes.length, 0, 'no snapshot for the invalid content');
  // A comment-only edit of the good content emits nothing; the next real change is the first change.
  writeFileSync(path, `# comment\n${NODE}---\n${POOL}`);
  await new Promise((r) => setTimeout(r, 150));
  writeFileSync(path, `${NODE}---\n${POOL}---\n${PEER}`);
  const s = await rec.change(1);
  t.same([...s.bgpPeers.keys()], ['tor-1']);
  t.equal(s.ipPools.get('pool-1')?.spec.cidr, '10.244.0.0/16');
  t.equal(s.revision, first.revision + 1, 'exactly one snapshot after the good state');
  t.equal(rec.errors.length, 1, 'the invalid content was reported once');
});

t.test('apply/delete round trip keeps other documents byte for byte', async (t) => {
  const original = `${NODE}---\n${POOL}---\n${PEER}`;
  const path = tmpFile(t, original);
  const { ds, rec } = await open(t, path);
  const peer2: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'tor-2' }, spec: { peerIP: '10.0.0.2', asNumber: 65002 } };
  const pool: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-1' }, spec: { cidr: '10.244.0.0/16', vxlanMode: 'Always' } };
  await ds.apply([pool, peer2]);
  const text = readFileSync(path, 'utf8');
  t.ok(text.startsWith(NODE), 'document 1 verbatim, comments included');
  t.ok(text.includes(`---\n${PEER}`), 'document 3 verbatim, comments included');
  t.notOk(text.includes('ipipMode: Always'), 'document 2 replaced');
  t.ok(text.indexOf('pool-1') < text.indexOf('tor-1'), 'replaced in place');
  const s = await rec.change(1);
  t.equal(s.ipPools.get('pool-1')?.spec.vxlanMode, 'Always');
  t.same([...s.bgpPeers.keys()], ['tor-1', 'tor-2']);
  t.same((await ds.list('BGPPeer', 'tor-2')).map((r) => r.metadata.name), ['tor-2']);

  t.equal(await ds.delete('BGPPeer', 'tor-2'), true);
  t.equal(await ds.delete('BGPPeer', 'tor-2'), false, 'already gone');
  t.equal(await ds.delete('IPPool', 'pool-1'), true);
  const after = readFileSync(path, 'utf8');
  t.equal(after, `${NODE}---\n${PEER}`, 'only the deleted documents are gone');
  const s2 = await rec.change(3);
  t.equal(s2.ipPools.size, 0);

  await t.rejects(ds.apply([{ ...peer2, spec: { peerIP: '10.0.0.2' } } as Resource]), { message: 'document 1 (BGPPeer tor-2): spec.asNumber: is required with spec.peerIP' });
  t.equal(readFileSync(path, 'utf8'), after, 'a rejected apply writes nothing');
});

t.test('apply to a missing file creates it', async (t) => {
  const path = join(tmpFile(t), 'new', 'resources.yaml');
  const ds = new FileDatastore(path);
  t.teardown(() => ds.close());
  await ds.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1' }, spec: {} }]);
  const s = await ds.load();
  t.same([...s.nodes.keys()], ['n1']);
});

t.test('a JSON file stays JSON through apply and delete', async (t) => {
  const one = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1' }, spec: {} };
  const path = tmpFile(t, JSON.stringify(one));
  const { ds } = await open(t, path);
  await ds.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n2' }, spec: {} }]);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { metadata: { name: string } }[];
  t.same(parsed.map((r) => r.metadata.name), ['n1', 'n2']);
  t.equal(await ds.delete('Node', 'n1'), true);
  t.same((JSON.parse(readFileSync(path, 'utf8')) as { metadata: { name: string } }[]).map((r) => r.metadata.name), ['n2']);
});

t.test('emptying the file is confirmed by a second read, then applies', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const { first, rec } = await open(t, path);
  writeFileSync(path, '');
  const s = await rec.change(1);
  t.equal(s.nodes.size + s.ipPools.size, 0, 'an empty file that stays empty is an empty configuration');
  t.equal(s.revision, first.revision + 1);
});

t.test('problems(): an invalid edit is listed until the file is valid; back from missing with it, listed again', async (t) => {
  const path = tmpFile(t, `${NODE}---\n${POOL}`);
  const { ds, rec } = await open(t, path);
  const bad = `${NODE}---\n${POOL.replace('10.244.0.0/16', '10.244.1.0/16')}`;
  t.same(ds.problems(), [], 'nothing after a valid load');
  writeFileSync(path, bad);
  await rec.error(1);
  t.same(ds.problems().map((e) => e.code), ['ERR_CONFIG_INVALID'], 'the invalid content is listed');
  rmSync(path);
  await rec.error(2);
  t.same(ds.problems().map((e) => e.code), ['ERR_DATASTORE_FILE_MISSING'], 'then the missing file');
  writeFileSync(path, bad);
  await rec.error(3);
  t.same(ds.problems().map((e) => e.code), ['ERR_CONFIG_INVALID'], 'back with the same invalid text: that is the problem again');
  writeFileSync(path, `${NODE}---\n${POOL}---\n${PEER}`);
  await rec.change(1);
  t.same(ds.problems(), [], 'valid again: nothing listed');
});
