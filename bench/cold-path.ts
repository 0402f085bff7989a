// One route event's RIB work, in process, with the CPU caches evicted before each event (16 MiB
// written between events, as the idle gaps of the latency scenario leave them to other processes).
// `node --max-opt=1 --import tsx bench/cold-path.ts [ROOT]`: ROOT is a tree whose src/ is measured
// (default: this one), so two trees can be compared back to back; --max-opt=1 keeps the code at
// Sparkplug, as the latency path runs in the daemon.
// - A: a learned kernel route's local path (setLocal) and the flush that sends it to an ADD-PATH
//   iBGP peer (Adj-RIB-Out diff, pack, write to a sink); median µs per stage.
// - B: an UPDATE as A sends it decoded (frameOutcome), screened, applied to the Loc-RIB and
//   flushed (B's Adj-RIB-Out toward A sends nothing back); median µs per event.
// Warm (back to back) the same work costs 15–30 µs per event: see docs/benchmarks.md.
import { resolve } from 'node:path';

const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
const at = (p: string) => import(`${root}/src/${p}`);
const { LocRib } = await at('rib/loc-rib.ts');
const { AdjRibOutManager } = await at('rib/adj-rib-out-manager.ts');
const { AdjRibOut } = await at('rib/adj-rib-out.ts');
const { UpdateGroup } = await at('rib/update-group.ts');
const { frameOutcome } = await at('bgp/session/intake.ts');
const { packUpdates, encodePathAttributes } = await at('bgp/wire/index.ts');
const { screenUpdate } = await at('rib/inbound.ts');

const junk = new Uint8Array(16 << 20);
const evict = () => { for (let j = 0; j < junk.length; j += 64) junk[j]!++; };
const us = () => Number(process.hrtime.bigint()) / 1000;
const prefix = (i: number) => `10.${100 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}/26`;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const ctx = (self: string) => ({ localAs: 64512, routerId: self, pools: [{ cidr: '10.0.0.0/8', disableBGPExport: false, disabled: false }], ownBlocks: [], localAddresses: { ipv4: self } });
const peer = (key: string, self: string) => ({ key, family: 'ipv4', ebgp: false, peerAs: 64512, routeReflectorClient: false, nextHopMode: 'auto', localAddress: self, fourOctetAs: true, addPath: true });
const sink = { write: () => true, onDrain: () => undefined };
const WARM = 300;
const EVENTS = 400;

// A: stage times from wrappers around the Adj-RIB-Out's methods (their own cost is included)
const stages: Record<string, number[]> = {};
let recording = false;
function timed(proto: Record<string, (...a: unknown[]) => unknown>, name: string): void {
  const f = proto[name]!;
  proto[name] = function (this: unknown, ...a: unknown[]) {
    const t0 = us();
    try { return f.apply(this, a); } finally { if (recording) (stages[name] ??= []).push(us() - t0); }
  };
}
timed(AdjRibOut.prototype, 'diff');
timed(UpdateGroup.prototype, 'desired');
timed(UpdateGroup.prototype, 'pack');
const ribA = new LocRib({ localAs: 64512, routerId: '10.202.0.1', schedule: 'manual' });
new AdjRibOutManager(ribA, ctx('10.202.0.1')).addPeer(peer('10.202.0.2|179', '10.202.0.1'), sink);
const local = Object.freeze({ origin: 0, asPath: [], nextHop: '10.202.0.1' });
for (let i = 0; i < WARM + EVENTS; i++) {
  if (i >= WARM) { evict(); recording = true; }
  const t0 = us(); ribA.setLocal(prefix(i), local, 'local:kernel'); const t1 = us(); ribA.flush(); const t2 = us();
  if (recording) { (stages.setLocal ??= []).push(t1 - t0); (stages.flush ??= []).push(t2 - t1); }
}

// B
const opts = { fourOctetAs: true, addPath: new Set(['ipv4']) };
const attrs = encodePathAttributes({ origin: 0, asPath: [], nextHop: '10.202.0.1', localPref: 100 }, opts);
const ribB = new LocRib({ localAs: 64512, routerId: '10.202.0.2', schedule: 'manual' });
const keyA = '10.202.0.1|179';
ribB.registerPeer({ key: keyA, address: '10.202.0.1', asn: 64512, routerId: '10.202.0.1', ebgp: false, routeReflectorClient: false, family: 'ipv4' });
new AdjRibOutManager(ribB, ctx('10.202.0.2')).addPeer(peer(keyA, '10.202.0.2'), sink);
const screen = { families: new Set(['ipv4']), ownAddresses: new Set(['10.202.0.2']), linkLocalSession: false };
const frames: Buffer[] = Array.from({ length: WARM + EVENTS }, (_, i) => packUpdates({ family: 'ipv4', attributes: attrs, nlri: [{ prefix: prefix(i), pathId: 1 }], opts })[0]);
const eventB: number[] = [];
for (let i = 0; i < WARM + EVENTS; i++) {
  if (i >= WARM) evict();
  const t0 = us();
  ribB.applyUpdate(keyA, screenUpdate(frameOutcome(frames[i]!, 'Established', opts).message, screen).msg);
  ribB.flush();
  if (i >= WARM) eventB.push(us() - t0);
}

const a = ['setLocal', 'flush', 'diff', 'desired', 'pack'].map((k) => `${k} ${median(stages[k]!).toFixed(1)}`).join(', ');
console.log(`${root}: A median µs: ${a}; B event ${median(eventB).toFixed(1)}`);
