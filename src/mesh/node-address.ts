// This node's address of one family at start-up, as calico-node's startup decides it
// (configureIPsAndSubnets): a literal from IP/IP6 (a bare address takes the prefix length
// of the interface that holds it), autodetection by IP_AUTODETECTION_METHOD (every start
// with IP=autodetect; with IP unset only when the Node has no address yet; a failed
// detection keeps a stored address), or `none` (keep what is stored).
import os from 'node:os';
import type { Family } from '../net/prefix.js';
import { detectAddress, withLocalPrefix, type AutodetectMethod } from './autodetect-methods.js';
import type { InterfaceTable } from './autodetect.js';

/**
 * How one family's node address is found (calico-node's IP / IP6):
 * - literal: "addr/len", or a bare "addr" (its length from the interface holding it);
 * - autodetect: by `method`; `always` (IP=autodetect) re-detects on every start and updates
 *   the Node, otherwise (IP unset) only when the Node has no address of the family yet;
 * - none: no detection; an address already stored on the Node stays, as with calico-node.
 */
export type AddressSetting =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'autodetect'; readonly method: AutodetectMethod; readonly always: boolean }
  | { readonly kind: 'none' };

/** Everything calico-node derives about the node itself from flags and environment. */
export interface NodeIdentity {
  readonly ipv4: AddressSetting;
  readonly ipv6: AddressSetting;
  /** CALICO_ROUTER_ID: an IPv4 address, or 'hash' (from the node name, for IPv6-only nodes). */
  readonly routerId?: string;
  /** AS: stored as the Node's spec.bgp.asNumber. */
  readonly asNumber?: number;
  /** BGP_LOGSEVERITYSCREEN: the log level, before the Node's and the global setting. */
  readonly logSeverityScreen?: string;
}

/** "addr/len" to use, or undefined when the family is off. */
export async function resolveNodeAddress(
  family: Family,
  setting: AddressSetting,
  stored: string | undefined,
  warn: (message: string) => void,
  table: InterfaceTable = os.networkInterfaces(),
): Promise<string | undefined> {
  const have = stored && stored.trim() !== '' ? stored : undefined;
  switch (setting.kind) {
    case 'none':
      return have;
    case 'literal': {
      if (setting.value.includes('/')) return setting.value;
      return withLocalPrefix(table, setting.value)?.cidr ?? `${setting.value}/${family === 'ipv4' ? 32 : 128}`;
    }
    case 'autodetect': {
      if (!setting.always && have) return have;
      const found = await detectAddress(family, setting.method, table);
      if (found) return found.cidr;
      const name = family === 'ipv4' ? 'IP_AUTODETECTION_METHOD' : 'IP6_AUTODETECTION_METHOD';
      warn(`${name} (${setting.method.kind}) found no ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address${have ? `; keeping the stored ${have}` : ''}`);
      return have;
    }
  }
}
