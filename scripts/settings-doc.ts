// Rewrites the settings table of docs/operations.md from src/settings/registry.ts.
// Usage: npx tsx scripts/settings-doc.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { withSettingsTable } from '../src/settings/doc.js';

const file = new URL('../docs/operations.md', import.meta.url);
writeFileSync(file, withSettingsTable(readFileSync(file, 'utf8')));
