// `tern routes` as text: one line per path, the best marked with '*', like `birdc show route`.
import type { RouteJson } from '../api/types.js';

export function renderRoutes(routes: RouteJson[]): string {
  if (routes.length === 0) return 'No routes.\n';
  const rows = routes.map((r) => [
    r.best ? '*' : ' ',
    r.prefix,
    r.nextHop || '-',
    r.source,
    r.asPath || '(local)',
    r.best ? (r.fib ?? '') + (r.fibError ? ` (${r.fibError})` : '') : r.stale ? 'stale' : '',
  ]);
  const header = [' ', 'PREFIX', 'NEXT HOP', 'SOURCE', 'AS PATH', 'KERNEL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
