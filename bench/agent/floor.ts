// Raw kernel floor for the ingest scenario, run inside a lab namespace: N routes
// `<prefix> via <gw> dev <dev> proto bird` written straight through rtnetlink with tern's
// pipelined writer (src/fib/netlink-kernel.ts: many requests per sendmsg, one ACK per
// datagram), with no BGP and no RIB. Prints `{"ms": …}` (time from the first write to the last
// ACK, in process).
//   node --import tsx bench/agent/floor.ts <n> <base a.b.c.d> <gateway> <dev>
import { NetlinkKernel } from '../../src/fib/netlink-kernel.js';
import { nthPrefix } from '../lib.js';

const [n, base, gw, dev] = [Number(process.argv[2]), process.argv[3]!, process.argv[4]!, process.argv[5]!];
const k = new NetlinkKernel();
const links = await k.links();
const ifindex = links.find((l) => l.name === dev)?.ifindex;
if (!ifindex) throw new Error(`no link ${dev}`);
const routes = Array.from({ length: n }, (_, i) => ({
  prefix: nthPrefix(base, i, 26), family: 'ipv4' as const, table: 254, protocol: 12, type: 'unicast' as const, metric: 0,
  nextHops: [{ gateway: gw, ifindex, onlink: false }],
}));
const t0 = process.hrtime.bigint();
await Promise.all(routes.map((r) => k.replace(r)));
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
k.close();
process.stdout.write(`${JSON.stringify({ ms })}\n`);
process.exit(0);
