// `tern apply | get | delete`: resources in the datastore, with the daemon's own validation.
import fs from 'node:fs';
import YAML from 'yaml';
import { openDatastore, parseResources } from '../datastore/index.js';
import { PLURAL, RESOURCE_KINDS, type ResourceKind } from '../model/types.js';
import { ConfigError } from '../util/errors.js';
import { resolveDatastoreSpec } from '../settings/index.js';

/** "node", "nodes", "Node", "bgppeer", "BGPPeers" … → the kind. */
export function resolveKind(text: string): ResourceKind {
  const t = text.toLowerCase();
  for (const kind of RESOURCE_KINDS) {
    if (kind.toLowerCase() === t || PLURAL[kind] === t) return kind;
  }
  throw new ConfigError(`unknown resource kind "${text}"; known: ${RESOURCE_KINDS.join(', ')}`);
}

function readInput(file: string): string {
  return file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
}

export async function applyCommand(opts: { filename: string; datastore?: string }): Promise<void> {
  const resources = parseResources(readInput(opts.filename), opts.filename === '-' ? 'stdin' : opts.filename);
  const ds = await openDatastore(resolveDatastoreSpec(opts.datastore));
  try {
    await ds.apply(resources);
  } finally {
    await ds.close();
  }
  for (const r of resources) {
    process.stdout.write(`${r.kind} ${r.metadata.namespace ? r.metadata.namespace + '/' : ''}${r.metadata.name} applied\n`);
  }
}

export async function getCommand(kindText: string, name: string | undefined, opts: { output: string; namespace?: string; datastore?: string }): Promise<void> {
  const kind = resolveKind(kindText);
  const ds = await openDatastore(resolveDatastoreSpec(opts.datastore));
  let items;
  try {
    items = await ds.list(kind, name, opts.namespace);
  } finally {
    await ds.close();
  }
  if (name && items.length === 0) throw new ConfigError(`${kind} "${name}" not found`);
  if (opts.output === 'json') {
    const body = name ? items[0] : { kind: `${kind}List`, apiVersion: 'projectcalico.org/v3', items };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  } else if (opts.output === 'yaml') {
    process.stdout.write(items.map((r) => YAML.stringify(r)).join('---\n'));
  } else {
    throw new ConfigError(`unknown output format "${opts.output}" (yaml | json)`);
  }
}

export async function deleteCommand(kindText: string, name: string, opts: { namespace?: string; datastore?: string }): Promise<void> {
  const kind = resolveKind(kindText);
  const ds = await openDatastore(resolveDatastoreSpec(opts.datastore));
  let found: boolean;
  try {
    found = await ds.delete(kind, name, opts.namespace);
  } finally {
    await ds.close();
  }
  if (!found) throw new ConfigError(`${kind} "${name}" not found`);
  process.stdout.write(`${kind} ${name} deleted\n`);
}
