// The settings table of docs/operations.md, rendered from the registry. Regenerate it with
// `npx tsx scripts/settings-doc.ts`; test/settings/registry.test.ts fails when the two differ.
import { SETTINGS, type Setting } from './registry.js';

export const DOC_BEGIN = '<!-- settings:begin (generated from src/settings/registry.ts) -->';
export const DOC_END = '<!-- settings:end -->';

function row(s: Setting): string {
  const names = [s.flag, s.env].filter((n): n is string => n !== undefined).map((n) => `\`${n}\``).join(', ');
  const dflt = s.default !== undefined ? s.default : '';
  return `| ${names} | ${s.commands.join(', ')} | ${s.type} | ${dflt} | ${s.calico ? 'yes' : ''} | ${s.doc.replace(/\|/g, '\\|')} |`;
}

/** The markdown table, between its two marker lines. */
export function renderSettingsTable(): string {
  return [
    DOC_BEGIN,
    '| flag / variable | commands | type | default | calico-node | meaning |',
    '|---|---|---|---|---|---|',
    ...(SETTINGS as readonly Setting[]).map(row),
    DOC_END,
  ].join('\n');
}

/** `text` with its settings table replaced by a freshly rendered one. */
export function withSettingsTable(text: string): string {
  const begin = text.indexOf(DOC_BEGIN);
  const end = text.indexOf(DOC_END);
  if (begin < 0 || end < begin) throw new Error('docs/operations.md has no settings markers');
  return text.slice(0, begin) + renderSettingsTable() + text.slice(end + DOC_END.length);
}
