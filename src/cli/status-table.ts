// `tern status` as `calicoctl node status` prints it: one section per family, an ASCII
// table with centred upper-case headers and left-aligned cells (calicoctl uses
// tablewriter; cli-table3 is set up to draw the same box), or "No IPv4 peers found.".
import Table from 'cli-table3';
import type { PeerStatusJson } from '../api/types.js';

const ASCII = {
  top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
  bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
  left: '|', 'left-mid': '+', mid: '-', 'mid-mid': '+', right: '|', 'right-mid': '+', middle: '|',
};

const HEADERS = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];

/** calicoctl: hh:mm:ss within the last 20 hours, otherwise YYYY-MM-DD (local time, as BIRD). */
export function formatSince(sinceIso: string, now: Date = new Date()): string {
  const since = new Date(sinceIso);
  if (Number.isNaN(since.getTime())) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  if (now.getTime() - since.getTime() < 20 * 3600 * 1000) {
    return `${two(since.getHours())}:${two(since.getMinutes())}:${two(since.getSeconds())}`;
  }
  return `${since.getFullYear()}-${two(since.getMonth() + 1)}-${two(since.getDate())}`;
}

function renderFamily(peers: PeerStatusJson[], label: 'IPv4' | 'IPv6', now: Date, wide: boolean): string {
  const lines = [`${label} BGP status`];
  if (peers.length === 0) {
    lines.push(`No ${label} peers found.`);
    return lines.join('\n');
  }
  const headers = wide ? [...HEADERS, 'RR CLIENT', 'RECEIVED', 'ADVERTISED'] : HEADERS;
  const table = new Table({
    head: headers.map((content) => ({ content, hAlign: 'center' as const })) as unknown as string[],
    chars: ASCII,
    style: { head: [], border: [] },
  });
  for (const p of peers) {
    const row = [p.address, p.type, p.state, formatSince(p.since, now), p.info];
    if (wide) row.push(p.routeReflectorClient ? 'yes' : 'no', String(p.received), String(p.advertised));
    table.push(row);
  }
  // cli-table3 rules a line under every row; tablewriter (calicoctl) only under the header.
  const drawn = table.toString().split('\n');
  const kept = drawn.filter((line, i) => !(line.startsWith('+') && i > 2 && i < drawn.length - 1));
  lines.push(...kept);
  return lines.join('\n');
}

/** `wide` adds the reflector-client flag and route counts after calicoctl's five columns. */
export function renderStatus(peers: PeerStatusJson[], now: Date = new Date(), wide = false): string {
  const v4 = peers.filter((p) => p.family === 'ipv4');
  const v6 = peers.filter((p) => p.family === 'ipv6');
  return ['tern process is running.', '', renderFamily(v4, 'IPv4', now, wide), '', renderFamily(v6, 'IPv6', now, wide), ''].join('\n');
}
