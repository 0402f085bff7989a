// The Loc-RIB's path sources by key: BGP peers (registered when their session is
// established) and local origins ('local' for own blocks, 'kernel' for learned routes).
// Invariants: a key names one kind of source for the life of the RIB (a peer key never
// becomes local, nor the reverse); a source keeps its object and its index when registered
// again (paths hold the object; best-path selection's last tie-break reads the index).
import { ipv4Num } from '../net/prefix.js';
import { addressSortKey } from './path.js';
import type { LocalSource, PathSource, PeerSource, PeerSourceInfo } from './path.js';
import { RibError } from './rib-types.js';

export class Sources {
  private readonly byKey = new Map<string, PathSource>();
  private nextIndex = 1;

  constructor(private readonly localAs: number, private readonly routerId: string) {}

  /** Registers or updates a peer source; `src` is the same object as before when it existed. */
  peer(info: PeerSourceInfo): { src: PeerSource; hadPaths: boolean } {
    const old = this.byKey.get(info.key);
    if (old && old.kind !== 'peer') throw new RibError('ERR_RIB_SOURCE_KIND', `source ${info.key} is local`);
    const addressKey = addressSortKey(info.address);
    const routerIdNum = ipv4Num(info.routerId);
    // A new source is made whole in one literal (about half the CPU of growing it by assign).
    const src: PeerSource = old
      ? Object.assign(old, { ...info, kind: 'peer' as const, addressKey, routerIdNum })
      : { kind: 'peer', index: this.nextIndex++, pathCount: 0, ...info, addressKey, routerIdNum };
    this.byKey.set(info.key, src);
    return { src, hadPaths: old !== undefined && old.pathCount > 0 };
  }

  /** The local source `key`, made on first use. */
  local(key: string): LocalSource {
    const s = this.byKey.get(key);
    if (s) {
      if (s.kind !== 'local') throw new RibError('ERR_RIB_SOURCE_KIND', `source ${key} is a peer`);
      return s;
    }
    const src: LocalSource = {
      kind: 'local', key, index: this.nextIndex++, address: '', addressKey: '', asn: this.localAs,
      routerId: this.routerId, routerIdNum: ipv4Num(this.routerId), ebgp: false, routeReflectorClient: false, pathCount: 0,
    };
    this.byKey.set(key, src);
    return src;
  }

  get(key: string): PathSource | undefined {
    return this.byKey.get(key);
  }

  /** The source `key`; an error when none is registered. */
  must(key: string): PathSource {
    const s = this.byKey.get(key);
    if (!s) throw new RibError('ERR_RIB_UNKNOWN_SOURCE', `unknown RIB source ${key}`, { source: key });
    return s;
  }

  values(): IterableIterator<PathSource> {
    return this.byKey.values();
  }
}
