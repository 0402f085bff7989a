// Parsers of IPPool and BlockAffinity (one function per kind, resource → typed value,
// ModelError when unusable), and bgpModel(): every BGP kind of a Snapshot parsed (BGPFilter's
// parser is parse-bgp-filter.ts).
import { canonicalPrefix, familyOf } from '../net/prefix.js';
import { errorMessage } from '../util/errors.js';
import { ModelError } from './errors.js';
import { parseBgpConfiguration, parseBgpPeer, parseNode } from './parse-bgp.js';
import { parseBgpFilter } from './parse-bgp-filter.js';
import type { BgpModel, BlockAffinity, IpPool } from './bgp.js';
import type { BlockAffinityResource, IPPoolResource, Snapshot } from './types.js';

function prefixOf(kind: string, name: string, field: string, text: unknown, node?: string): string {
  try {
    return canonicalPrefix(String(text));
  } catch (e) {
    throw new ModelError(kind, name, field, `${JSON.stringify(text)}: ${errorMessage(e)}`, node);
  }
}

export function parseIpPool(r: IPPoolResource): IpPool {
  const s = r.spec;
  const cidr = prefixOf('IPPool', r.metadata.name, 'spec.cidr', s.cidr);
  const family = familyOf(cidr);
  return {
    name: r.metadata.name,
    cidr,
    family,
    blockSize: s.blockSize ?? (family === 'ipv4' ? 26 : 122),
    ipipMode: s.ipipMode ?? 'Never',
    vxlanMode: s.vxlanMode ?? 'Never',
    natOutgoing: s.natOutgoing ?? false,
    disabled: s.disabled ?? false,
    disableBGPExport: s.disableBGPExport ?? false,
  };
}

export function parseBlockAffinity(r: BlockAffinityResource): BlockAffinity {
  const s = r.spec;
  return {
    name: r.metadata.name,
    node: s.node,
    cidr: prefixOf('BlockAffinity', r.metadata.name, 'spec.cidr', s.cidr, s.node),
    state: s.state,
    deleted: s.deleted === true || s.deleted === 'true',
  };
}

const models = new WeakMap<Snapshot, BgpModel>();

/**
 * Every BGP kind of `s` as typed values (resources refused whole go to `refused`), parsed on
 * the first call for a snapshot and kept while the snapshot lives: snapshots are immutable.
 */
export function bgpModel(s: Snapshot): BgpModel {
  let m = models.get(s);
  if (!m) models.set(s, (m = parseModel(s)));
  return m;
}

function parseModel(s: Snapshot): BgpModel {
  const refused: ModelError[] = [];
  const parseAll = <R, T>(items: ReadonlyMap<string, R>, parse: (r: R) => T): Map<string, T> => {
    const out = new Map<string, T>();
    for (const [key, r] of items) {
      try {
        out.set(key, parse(r));
      } catch (e) {
        if (!(e instanceof ModelError)) throw e;
        refused.push(e);
      }
    }
    return out;
  };
  return {
    nodes: parseAll(s.nodes, parseNode),
    bgpConfigurations: parseAll(s.bgpConfigurations, parseBgpConfiguration),
    bgpPeers: parseAll(s.bgpPeers, parseBgpPeer),
    ipPools: parseAll(s.ipPools, parseIpPool),
    blockAffinities: parseAll(s.blockAffinities, parseBlockAffinity),
    bgpFilters: parseAll(s.bgpFilters, parseBgpFilter),
    refused,
  };
}
