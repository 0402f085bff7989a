// Where tern is and how a child tern runs: the repository root, bin/tern, and the environment
// a child daemon gets (the caller's, without tap's loaders).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's location (lab/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TERN_BIN = resolve(REPO_ROOT, 'bin', 'tern');

/**
 * The environment for a child tern: without tap's loaders, and without NODE_EXTRA_CA_CERTS
 * unless TERN_LAB_KEEP_EXTRA_CA_CERTS=1.
 */
export function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // tap injects its loaders through NODE_OPTIONS; the daemon runs from dist/ without them.
  delete env.NODE_OPTIONS;
  // Node 20 reads and parses the NODE_EXTRA_CA_CERTS file, with its own root store, at every
  // process start, before any of tern's code runs: with the system bundle (146 certificates)
  // that is 35 ms of CPU, more than half of `node -e 0` (docs/benchmarks.md, "Node's boot and
  // NODE_EXTRA_CA_CERTS"). A host that sets it for its TLS proxy sets it for every process; a
  // lab daemon never uses Node's default root store (etcd TLS is given its own CA file).
  if (process.env.TERN_LAB_KEEP_EXTRA_CA_CERTS !== '1') delete env.NODE_EXTRA_CA_CERTS;
  for (const k of Object.keys(env)) if (k.startsWith('TAP')) delete env[k];
  return { ...env, ...extra };
}
