// Where tern is and how a child tern runs: the repository root, bin/tern, and the environment
// a child daemon gets (the caller's, without tap's loaders).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's location (lab/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TERN_BIN = resolve(REPO_ROOT, 'bin', 'tern');

/** The environment for a child tern: without tap's loaders. */
export function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // tap injects its loaders through NODE_OPTIONS; the daemon runs from dist/ without them.
  delete env.NODE_OPTIONS;
  for (const k of Object.keys(env)) if (k.startsWith('TAP')) delete env[k];
  return { ...env, ...extra };
}
