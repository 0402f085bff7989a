// The lab set-up the integration tests repeat, in one place: a segment (a bridge with its
// hosts, each plugged in with its addresses), a pair (two hosts joined by a veth) and a
// Calico file datastore shared by the tern nodes on them. What runs on the hosts (tern, BIRD, GoBGP, FRR, raw peers) the tests start
// themselves; teardown is the Lab's (every namespace and process goes with the test).
import type { BridgeOptions, Lab, Link, LinkEnd, LinkOptions } from './netns.js';
import { calicoYaml } from './calico-resources.js';
import { writeDatastore } from './tern.js';

/** A host's place on a segment: its IPv4 CIDR, or `{ v4, v6, ifName }` (CIDRs, `addr/len`). */
export type SegmentMember = string | { v4?: string; v6?: string; ifName?: string };

/**
 * A bridge `name` and, in order, each member host plugged into it: the host is created unless
 * the lab already has it (a router or a node on two segments), then attached with its
 * addresses. Returns each host's end of the link.
 */
export async function segment(lab: Lab, name: string, members: Record<string, SegmentMember>, opts: BridgeOptions = {}): Promise<Record<string, LinkEnd>> {
  await lab.bridge(name, opts);
  const ends: Record<string, LinkEnd> = {};
  for (const [host, addr] of Object.entries(members)) {
    if (!lab.has(host)) await lab.addHost(host);
    ends[host] = await lab.attach(host, name, addr);
  }
  return ends;
}

/** Two hosts joined by a veth pair with its addresses (see Lab.link); either host is created
 *  unless the lab already has it. */
export async function pair(lab: Lab, a: string, b: string, opts: LinkOptions = {}): Promise<Link> {
  for (const h of [a, b]) if (!lab.has(h)) await lab.addHost(h);
  return lab.link(a, b, opts);
}

/** A file datastore in the lab dir holding these documents (see calico-resources.ts); its
 *  `file:` spec, to share between the nodes. `path` is the file, for tests that edit it live. */
export function fileDatastore(lab: Lab, docs: Array<string | readonly string[]>, name = 'datastore.yaml'): { spec: string; path: string } {
  const spec = writeDatastore(lab, calicoYaml(...docs), name);
  return { spec, path: spec.slice('file:'.length) };
}
