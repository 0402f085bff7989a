// Re-captures the real-router vectors in this folder: BIRD 2, GoBGP and FRR each connect as
// a BGP client to test/helpers/tcp-recorder.ts inside a lab namespace; the recorder answers
// with a hand-built OPEN + KEEPALIVE, and every byte the daemon sends is saved here as hex.
//
//   sudo npx tsx test/bgp/wire/vectors/captured/capture.ts --write [bird|gobgp|frr ...]
//
// File format (*.hex): '#' lines are comments (vendor, version, config, then one line per
// message naming it); every other line is one whole BGP message, marker included, in hex.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../../../../../lab/netns.js';
import { startBird, startFrr, startGobgp, type NeighborSpec } from '../../../../helpers/peers.js';
import {
  buildOpenHex, isEndOfRib, KEEPALIVE_HEX, startRecorder, type OpenSpec, type RecordedMessage,
} from '../../../../helpers/tcp-recorder.js';

const OUT = dirname(fileURLToPath(import.meta.url));
const V4 = { client: '10.99.0.1', rec: '10.99.0.2' };
const V6 = { client: 'fd99::1', rec: 'fd99::2' };

type Vendor = 'bird' | 'gobgp' | 'frr';
interface Scenario {
  tag: string; // file-name part
  transport: 'ipv4' | 'ipv6';
  open: OpenSpec;
  addPaths?: boolean;
  /** Withdraw the first route after the initial UPDATEs and record that too. */
  withdraw?: boolean;
  /** Expect only an OPEN and a NOTIFICATION (the recorder's OPEN is unacceptable). */
  notification?: boolean;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}
const pkg = (p: string) => sh('dpkg-query', ['-W', '-f=${Version}', p]);
const VERSIONS: Record<Vendor, { label: string; file: string; asn: number }> = {
  bird: { label: `BIRD ${sh('bird', ['--version']).replace(/^BIRD version /, '') || '?'} (Debian bird2 ${pkg('bird2')})`, file: 'bird-2.0.12', asn: 65001 },
  gobgp: { label: `GoBGP ${sh('gobgpd', ['--version']).replace(/^gobgpd version /, '')} (Debian gobgpd ${pkg('gobgpd')})`, file: 'gobgp-3.10', asn: 65002 },
  frr: { label: `FRR ${sh('/usr/lib/frr/bgpd', ['-v']).split('\n')[0]?.replace(/^bgpd version /, '')} (Debian frr ${pkg('frr')})`, file: 'frr-8.4', asn: 4200000001 },
};

const ROUTES = {
  ipv4: ['10.244.1.0/26', '10.244.1.64/26', '10.244.7.0/24'],
  ipv6: ['fd00:244:1::/122', 'fd00:244:1::40/122'],
};

function describe(m: RecordedMessage): string {
  const b = m.bytes;
  if (m.type === 2) {
    const wl = b.readUInt16BE(19);
    const al = b.readUInt16BE(21 + wl);
    const nl = b.length - 23 - wl - al;
    return `UPDATE, ${b.length} bytes (withdrawn ${wl} B, path attributes ${al} B, NLRI ${nl} B)${isEndOfRib(m) ? ' End-of-RIB' : ''}`;
  }
  if (m.type === 3) return `NOTIFICATION, ${b.length} bytes (code ${b[19]}, subcode ${b[20]})`;
  if (m.type === 1) return `OPEN, ${b.length} bytes (AS field ${b.readUInt16BE(20)}, hold ${b.readUInt16BE(22)}, optional parameters ${b[28]} B)`;
  return `${m.typeName}, ${b.length} bytes`;
}

function save(name: string, header: string[], msgs: RecordedMessage[]): void {
  const lines = header.map((h) => `# ${h}`);
  lines.push('# format: "#" lines are comments; each other line is one whole BGP message (marker included) in hex.');
  msgs.forEach((m, i) => { lines.push(`# message ${i + 1}: ${describe(m)}`, m.bytes.toString('hex')); });
  writeFileSync(join(OUT, name), `${lines.join('\n')}\n`);
  process.stdout.write(`wrote ${name} (${msgs.length} messages)\n`);
}

async function startClient(lab: Lab, v: Vendor, s: Scenario, routes: string[]): Promise<{ summary: string; withdraw: () => Promise<void> }> {
  const rec = s.transport === 'ipv4' ? V4.rec : V6.rec;
  const rid = V4.client;
  const n: NeighborSpec = { address: rec, asn: 65000, family: s.transport, addPaths: !!s.addPaths };
  if (v === 'bird') {
    n.addPaths = true; // Calico's template: add paths on, graceful restart on
    const opts = { routerId: rid, asn: VERSIONS.bird.asn, neighbors: [n], staticRoutes: routes.map((prefix) => ({ prefix, blackhole: true })) };
    const b = await startBird(lab, 'client', opts);
    return {
      summary: `local AS ${opts.asn}, router id ${rid}, Calico-style session: neighbor ${rec} as 65000, ${s.transport} channel, add paths on, graceful restart on, gateway recursive; export static blackholes ${routes.join(', ')}`,
      withdraw: () => b.reconfigure({ ...opts, staticRoutes: opts.staticRoutes.slice(1) }),
    };
  }
  if (v === 'gobgp') {
    n.gracefulRestart = true; // GoBGP sends End-of-RIB only when graceful restart is negotiated
    const extra = { communities: ['65002:100', '65002:200'], med: 50 };
    const g = await startGobgp(lab, 'client', {
      routerId: rid, asn: VERSIONS.gobgp.asn, neighbors: [n],
      routes: routes.map((prefix, i) => ({ prefix, ...(i === 1 ? extra : {}) })),
    });
    return {
      summary: `local AS ${VERSIONS.gobgp.asn}, router id ${rid}, neighbor ${rec} peer-as 65000, graceful-restart enabled (restart-time 120, mp-graceful-restart), afi-safi ${s.transport}-unicast${s.addPaths ? ', add-paths receive + send-max 16' : ''}; routes added with \`gobgp global rib add\`: ${routes.join(', ')} (second one with community 65002:100,65002:200 med 50)`,
      withdraw: async () => { await g.delRoute(routes[0]!); },
    };
  }
  const f = await startFrr(lab, 'client', { routerId: rid, asn: VERSIONS.frr.asn, neighbors: [n], networks: routes });
  return {
    summary: `router bgp ${VERSIONS.frr.asn} (4-octet), router-id ${rid}, bgpd --no_zebra, neighbor ${rec} remote-as 65000, address-family ${s.transport} unicast${s.addPaths ? ' addpath-tx-all-paths' : ''}, network ${routes.join(', ')} (no bgp network import-check)`,
    withdraw: async () => {
      await f.vtysh('configure terminal', `router bgp ${VERSIONS.frr.asn}`, `address-family ${s.transport} unicast`, `no network ${routes[0]}`);
    },
  };
}

async function capture(v: Vendor, s: Scenario): Promise<void> {
  const lab = createLab(undefined, { area: 'capture' });
  try {
    await lab.addHost('client');
    await lab.addHost('rec');
    await lab.link('client', 'rec', { v4: [`${V4.client}/24`, `${V4.rec}/24`], v6: [`${V6.client}/64`, `${V6.rec}/64`] });
    const openHex = buildOpenHex({ families: [s.transport], ...s.open });
    const recorder = await startRecorder(lab, 'rec', {
      address: s.transport === 'ipv4' ? V4.rec : V6.rec,
      reply: Buffer.from(openHex + KEEPALIVE_HEX, 'hex'), repeat: Buffer.from(KEEPALIVE_HEX, 'hex'), repeatEveryMs: 20_000,
    });
    const routes = ROUTES[s.transport];
    const client = await startClient(lab, v, s, routes);
    const o = { asn: 65000, holdTime: 90, as4: true, gracefulRestart: true, routeRefresh: true, addPath: false, ...s.open };
    const header = [
      `vendor: ${VERSIONS[v].label}`,
      `captured: ${new Date().toISOString()} by test/bgp/wire/vectors/captured/capture.ts: the daemon, started in a network namespace, connects over a veth (${s.transport}) to test/helpers/tcp-recorder.ts, which records its bytes`,
      `client config: ${client.summary}`,
      `recorder reply: OPEN AS ${o.asn} hold ${o.holdTime} id 10.0.0.100, capabilities MP ${s.transport}/unicast${o.routeRefresh ? ', route-refresh' : ''}${o.gracefulRestart ? ', graceful-restart 120s' : ''}${o.as4 ? `, 4-octet AS ${o.asn}` : ' (NO 4-octet AS capability)'}${o.addPath ? ', ADD-PATH send/receive' : ''}; then KEEPALIVE`,
      `recorder OPEN hex: ${openHex}`,
    ];
    const base = VERSIONS[v].file;
    if (s.notification) {
      const msgs = await recorder.waitFor((m) => m.some((x) => x.type === 3), { what: `${v} NOTIFICATION`, timeoutMs: 30_000 });
      save(`${base}-notification-${s.tag}.hex`, header, msgs.filter((m) => m.type === 3));
      return;
    }
    const eor = (m: RecordedMessage[]) => m.some(isEndOfRib) && m.filter((x) => x.type === 2 && !isEndOfRib(x)).length > 0;
    const first = await recorder.waitFor(eor, { what: `${v} UPDATEs and End-of-RIB`, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const initial = recorder.messages();
    const open = initial.find((m) => m.type === 1);
    if (!open) throw new Error(`${v}: no OPEN in ${first.length} messages`);
    if (s.tag === 'ipv4') save(`${base}-open${v === 'frr' ? '-as4' : ''}.hex`, header, [open]);
    if (s.tag === 'ipv6') save(`${base}-open-ipv6.hex`, header, [open]);
    save(`${base}-update-${s.tag}.hex`, header, initial.filter((m) => m.type === 2));
    if (s.withdraw) {
      const before = initial.length;
      await client.withdraw();
      await recorder.waitFor((m) => m.slice(before).some((x) => x.type === 2), { what: `${v} withdrawal UPDATE`, timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 1000));
      save(`${base}-update-${s.tag}-withdraw.hex`, [...header, `action: withdrew ${routes[0]}`],
        recorder.messages().slice(before).filter((m) => m.type === 2));
    }
  } finally {
    await lab.destroy();
  }
}

const SCENARIOS: Scenario[] = [
  { tag: 'ipv4', transport: 'ipv4', open: {}, withdraw: true },
  { tag: 'ipv4-addpath', transport: 'ipv4', open: { addPath: true }, addPaths: true },
  { tag: 'ipv6', transport: 'ipv6', open: {} },
  { tag: 'ipv4-no-as4', transport: 'ipv4', open: { as4: false } },
  { tag: 'hold-time', transport: 'ipv4', open: { holdTime: 1 }, notification: true },
];

if (!process.argv.includes('--write')) {
  // Under tap (which runs every .ts below test/ it is pointed at) this file must do nothing.
  process.stdout.write('1..0 # SKIP capture.ts rewrites the vectors; run it with --write\n');
  process.exit(0);
}
const wanted = (process.argv.slice(2).filter((a) => ['bird', 'gobgp', 'frr'].includes(a)) as Vendor[]);
for (const v of wanted.length ? wanted : (['bird', 'gobgp', 'frr'] as const)) {
  for (const s of SCENARIOS) {
    if (s.tag === 'ipv4-no-as4' && v !== 'frr') continue; // only interesting for a 4-octet AS
    try { await capture(v, s); } catch (e) { process.stderr.write(`${v} ${s.tag}: ${(e as Error).message}\n`); process.exitCode = 1; }
  }
}
