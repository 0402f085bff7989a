// Test helper for the etcd datastore tests: Calico's resource key prefix, a BGPPeer
// resource, a plain etcd3 client closed at teardown, and a debug JSON logger whose lines
// a test can read.
import type { Test } from 'tap';
import { Writable } from 'node:stream';
import { Etcd3 } from 'etcd3';
import { createLogger, type Logger } from '../../src/util/log.js';
import type { Resource } from '../../src/datastore/index.js';
import type { EtcdServer } from '../helpers/etcd.js';

export const V3 = 'projectcalico.org/v3';
export const RES = '/calico/resources/v3/projectcalico.org';

export const peer = (name: string, ip: string): Resource => ({ apiVersion: V3, kind: 'BGPPeer', metadata: { name }, spec: { peerIP: ip, asNumber: 65001 } });

export function client(t: Test, etcd: EtcdServer): Etcd3 {
  const c = new Etcd3({ hosts: etcd.endpoint });
  t.teardown(() => c.close());
  return c;
}

/** A debug JSON logger and the lines it wrote. */
export function captured(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { logger: createLogger({ level: 'debug', json: true, stream }), lines };
}
