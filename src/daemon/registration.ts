// The first snapshot and this node's registration, as calico-node's startup does them.
//
// loadFirstSnapshot() retries an unreachable datastore with backoff (etcd may come up after
// the node, or answer slowly under load), each failure logged with its reason; invalid
// content is not retried: it refuses the start at once.
//
// registerSelf() resolves the node's addresses (--ip/IP literal, autodetect, none; the
// stored Node; IP_AUTODETECTION_METHOD), stores them on the Node resource (best effort: the
// addresses are used in memory all the same) and returns the snapshot to derive from, the
// re-read one when the Node was written.
import type { Datastore } from '../datastore/datastore.js';
import type { NodeAddress } from '../model/bgp.js';
import type { Snapshot } from '../model/types.js';
import { ownAddressOption } from '../peering/derive.js';
import { ConfigError, DatastoreError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { registerNode } from './autodetect.js';
import { resolveNodeAddress, type NodeIdentity } from './node-address.js';

/** The first snapshot, retried while the datastore is unreachable. */
export async function loadFirstSnapshot(datastore: Datastore, log: Logger): Promise<Snapshot> {
  for (let attempt = 1, delay = 1000; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      return await datastore.load();
    } catch (err) {
      if (!(err instanceof DatastoreError) || err.code !== 'ERR_DATASTORE_UNREACHABLE') throw err;
      log.warn('datastore unreachable; retrying', { event: 'datastoreRetry', attempt, retryInMs: delay, error: errorMessage(err) });
      // A plain (ref'd) timer: nothing else keeps the process alive yet.
      await new Promise<void>((resolve) => setTimeout(resolve, delay));
    }
  }
}

export interface Registration {
  /** The snapshot to derive from (re-read after the Node was written). */
  readonly snapshot: Snapshot;
  /** The addresses as text, as stored on the Node and shown in logs. */
  readonly addresses: { ipv4?: string; ipv6?: string };
  /** The same addresses as the model's typed values, for deriveNodeConfig. */
  readonly ownAddresses: { ipv4?: NodeAddress; ipv6?: NodeAddress };
}

/** Resolves this node's addresses and stores them on its Node resource. */
export async function registerSelf(
  datastore: Datastore, snapshot: Snapshot, nodeName: string, id: NodeIdentity, log: Logger,
): Promise<Registration> {
  const node = snapshot.nodes.get(nodeName);
  const warn = (m: string) => log.warn(m, { event: 'autodetectFailed' });
  const ipv4 = await resolveNodeAddress('ipv4', id.ipv4, node?.spec.bgp?.ipv4Address, warn);
  const ipv6 = await resolveNodeAddress('ipv6', id.ipv6, node?.spec.bgp?.ipv6Address, warn);
  const addresses = { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) };
  if (!ipv4 && !ipv6) throw new ConfigError(`node ${nodeName}: no IPv4 or IPv6 address (give --ip ADDR/LEN, set IP or IP6, or store spec.bgp.ipv4Address)`);
  if (!ipv4 && id.routerId === undefined) {
    throw new ConfigError(`node ${nodeName}: no IPv4 address for the router id (give --ip ADDR/LEN or set IP; an IPv6-only node needs CALICO_ROUTER_ID, an IPv4 address or "hash")`);
  }
  log.info('node addresses', { event: 'nodeAddresses', ...addresses });
  const asNumber = id.asNumber !== undefined ? { asNumber: id.asNumber } : {};
  let registered = snapshot;
  try {
    const applied = await registerNode((rs) => datastore.apply(rs), snapshot, nodeName, { ...addresses, ...asNumber });
    if (applied) {
      log.info('node registered', { event: 'nodeRegistered', ...addresses, ...asNumber });
      registered = await datastore.load();
    }
  } catch (err) {
    // Registration is best effort: the addresses are used in memory all the same.
    log.warn('could not store the Node resource', { event: 'registerFailed', error: errorMessage(err) });
  }
  // Registration writes the text back as resolved; derivation takes it parsed, once.
  const ownAddresses = {
    ...(ipv4 ? { ipv4: ownAddressOption(ipv4, 'ipv4', nodeName) } : {}),
    ...(ipv6 ? { ipv6: ownAddressOption(ipv6, 'ipv6', nodeName) } : {}),
  };
  return { snapshot: registered, addresses, ownAddresses };
}
