// Where password secretKeyRefs are resolved: v1 Secrets held in the (file) datastore first,
// then a secrets directory mounted as a Kubernetes Secret volume (--secrets-dir).
import { secretValue } from '../datastore/secret.js';
import type { Snapshot } from '../datastore/types.js';
import type { SecretLookup, SecretResolver } from './cluster.js';

/** What the secrets directory answers (src/datastore/secrets-dir.ts). */
export interface SecretSource {
  readonly dir: string;
  lookup(name: string, key: string): SecretLookup;
}

export function secretResolver(snapshot: Snapshot, dir: SecretSource | undefined): SecretResolver {
  return (name, key) => {
    const secret = snapshot.secrets?.get(name);
    if (secret) {
      const value = secretValue(secret, key);
      if (value !== undefined) return { value };
    }
    if (dir) {
      const found = dir.lookup(name, key);
      if ('value' in found || !secret) return found;
    }
    if (secret) return { missing: `Secret ${name} has no key ${key}` };
    return { missing: `no Secret ${name} in the datastore${dir ? '' : ' and no secrets directory (--secrets-dir)'}` };
  };
}
