// The settings registry is the one reader of the environment, knows every flag the
// commands declare, and is what docs/operations.md documents.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { renderSettingsTable, DOC_BEGIN, DOC_END } from '../../src/settings/doc.js';
import { SETTINGS, envValue, resolveDatastoreSpec, resolveNodeName, type Setting } from '../../src/settings/index.js';

const REPO = new URL('../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

t.test('no module outside src/settings reads process.env', async (t) => {
  const readers = sources(join(REPO, 'src'))
    .filter((f) => !f.includes('/src/settings/'))
    .filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '')));
  t.same(readers.map((f) => f.slice(REPO.length)), []);
});

t.test('every flag a command declares is in the registry', async (t) => {
  const flags = new Set((SETTINGS as readonly Setting[]).map((s) => s.flag).filter((f) => f !== undefined));
  const declared = new Set<string>();
  for (const f of sources(join(REPO, 'src', 'cli'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\.(?:option|requiredOption)\('(?:-\w, )?(--[a-z-]+)/g)) declared.add(m[1]!);
  }
  t.ok(declared.size > 10, 'the scan finds the commands\' options');
  t.same([...declared].filter((f) => !flags.has(f)).sort(), []);
});

t.test('docs/operations.md carries the table rendered from the registry', async (t) => {
  const doc = readFileSync(join(REPO, 'docs', 'operations.md'), 'utf8');
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  t.ok(begin >= 0 && end > begin, 'markers present');
  t.equal(doc.slice(begin, end + DOC_END.length), renderSettingsTable(), 'regenerate with: npx tsx scripts/settings-doc.ts');
});

t.test('an empty variable counts as unset', async (t) => {
  t.equal(envValue('NODENAME', { NODENAME: '' }), undefined);
  t.equal(resolveNodeName(undefined, { NODENAME: '', HOSTNAME: 'h1' }), 'h1');
  t.equal(resolveNodeName('flag', { NODENAME: 'env' }), 'flag');
});

t.test('datastore spec: flag, TERN_DATASTORE, then DATASTORE_TYPE', async (t) => {
  t.equal(resolveDatastoreSpec('http://e:2379', {}), 'etcd:http://e:2379');
  t.equal(resolveDatastoreSpec(undefined, { TERN_DATASTORE: 'file:/x.yaml' }), 'file:/x.yaml');
  t.equal(resolveDatastoreSpec(undefined, { DATASTORE_TYPE: 'ETCDv3', ETCD_ENDPOINTS: 'http://e:2379' }), 'etcd:http://e:2379');
  t.equal(resolveDatastoreSpec(undefined, { DATASTORE_TYPE: 'file', TERN_DATASTORE_FILE: '/y.yaml' }), 'file:/y.yaml');
  t.throws(() => resolveDatastoreSpec(undefined, { DATASTORE_TYPE: 'kubernetes' }), { code: 'ERR_CONFIG_INVALID' });
  t.throws(() => resolveDatastoreSpec(undefined, {}), { code: 'ERR_CONFIG_INVALID' });
});
