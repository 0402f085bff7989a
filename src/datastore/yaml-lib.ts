// The `yaml` package, loaded on first use. A daemon reads valid files with js-yaml
// (validate.ts, decodeDocumentsFast) and edits files only for `tern apply`, so its start
// does not evaluate `yaml` (larger than js-yaml; measured alone: 32 ms of CPU to require).
import { createRequire } from 'node:module';

let yamlLib: typeof import('yaml') | undefined;

export function yamlPackage(): typeof import('yaml') {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}
