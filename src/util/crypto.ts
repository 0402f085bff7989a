// node:crypto, loaded on first use. A daemon start with a file datastore needs none of it (a
// router id hashed from the node name, a temporary file name for a datastore write and an
// etcd resource's uid come later, if ever); loading it costs a start about 1.5 ms of CPU
// beyond the stream modules Node loads anyway (docs/benchmarks.md, round 2 changes).
import { createRequire } from 'node:module';

let crypto: typeof import('node:crypto') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  return (crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));
}
