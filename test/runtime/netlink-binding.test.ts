// netlink's native binding as the bundle loads it (src/runtime/netlink-binding.ts): the
// prebuilt binary directly, or through node-gyp-build when the package has a local build;
// both give raw.js the same NativeNetlink. And the bundle carries netlink's
// raw layer with that loader in place of node-gyp-build. Needs `npm run build`.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { loadNetlinkBinding } from '../../src/runtime/netlink-binding.js';

const root = dirname(createRequire(import.meta.url).resolve('netlink/package.json'));
const gypBuild = createRequire(join(root, 'package.json'))('node-gyp-build') as { (dir: string): unknown; path(dir: string): string };

t.test('the binding node-gyp-build would choose, loaded directly', async (t) => {
  const direct = loadNetlinkBinding() as { NativeNetlink?: unknown };
  t.type(direct.NativeNetlink, 'function', 'raw.js\'s NativeNetlink');
  t.equal(direct, gypBuild(root), 'the same module as node-gyp-build\'s choice');
});

t.test('the bundle carries raw.js with the loader, and no node-gyp-build', async (t) => {
  const bundle = readFileSync(resolve(import.meta.dirname, '..', '..', 'dist', 'bundle', 'main.cjs'), 'latin1');
  t.match(bundle, /"node_modules\/netlink\/dist\/raw\.js"/, 'raw.js bundled');
  t.match(bundle, /module2?\.exports=\(init_netlink_binding\(\),__toCommonJS\(netlink_binding_exports\)\)\.loadNetlinkBinding/, 'its node-gyp-build is the loader');
  t.notMatch(bundle, /require\("netlink/, 'no netlink module required at run time');
  t.notMatch(bundle, /node_modules\/node-gyp-build\//, 'node-gyp-build not bundled');
});
