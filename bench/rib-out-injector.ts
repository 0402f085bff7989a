// The Adj-RIB-Out cost of a peer that sends routes and receives none of them (the ingest
// bench's injector: iBGP, no reflection): `node --import tsx bench/rib-out-injector.ts [N]
// [noout] [SRC_ROOT]`. N routes (default 1 M) from one iBGP source enter a Loc-RIB, 1 000
// per flush, with an AdjRibOutManager whose one peer is that source (or none: `noout`);
// prints the CPU of the updates and flushes. SRC_ROOT: another checkout's root (A/B).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './lib.js';

const n = Number(process.argv[2] ?? 1_000_000);
const withOut = process.argv[3] !== 'noout';
const root = resolve(process.argv[4] ?? REPO);
const { LocRib } = await import(pathToFileURL(`${root}/src/rib/loc-rib.ts`).href);
const { AdjRibOutManager } = await import(pathToFileURL(`${root}/src/rib/adj-rib-out-manager.ts`).href);
const rib = new LocRib({ localAs: 64512, routerId: '10.201.0.1', schedule: 'manual' });
rib.registerPeer({ key: 'inj', address: '10.201.0.2', asn: 64512, routerId: '10.201.0.2', ebgp: false, routeReflectorClient: false });
const ctx = { localAs: 64512, routerId: '10.201.0.1', pools: [{ cidr: '10.244.0.0/16', disableBGPExport: false, disabled: false }], ownBlocks: [], localAddresses: { ipv4: '10.201.0.1' } };
let writes = 0;
if (withOut) {
  new AdjRibOutManager(rib, ctx).addPeer(
    { key: 'inj', family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: '10.201.0.1', fourOctetAs: true, addPath: false },
    { write: () => { writes++; return true; }, onDrain: () => {} },
  );
}
const set = rib.attrSets.intern({ origin: 0, asPath: [], nextHop: '10.201.0.2', localPref: 100 });
const prefixes = Array.from({ length: n }, (_, i) => {
  const a = 0x10000000 + i * 64;
  return `${a >>> 24}.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}/26`;
});
const c0 = process.cpuUsage();
for (let i = 0; i < n; i += 1000) {
  for (let j = i; j < Math.min(n, i + 1000); j++) rib.update('inj', prefixes[j]!, 0, set);
  rib.flush();
}
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ root, withOut, n, cpuMs: Math.round((c.user + c.system) / 1000), writes }));
