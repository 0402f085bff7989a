#!/usr/bin/env node
// Runs the whole suite with tap, streams tap's TAP output, and ends with the plain
// summary line CI reads: "N passed, N failed[, N skipped]".
//
// What is counted: the test points one level below each test file (its t.test()
// subtests, or its top-level assertions when it has none). A file that fails without a
// failing point of its own (a crash, a timeout) counts as one failure, so nothing that
// goes wrong can disappear from the count.
//
// Usage: node scripts/run-tests.mjs [tap args / files...]
//   TERN_TEST_FILTER=regex   only files whose path matches
//   TERN_SKIP_DEPS=1         do not run scripts/install-deps.sh first
//
// On a fresh clone it first runs scripts/install-deps.sh (Debian packages, npm ci, build):
// the integration tests run the daemon from dist/ and real peers from Debian's packages.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
let files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
if (files.length === 0) files = findTests('test');
if (process.env.TERN_TEST_FILTER) {
  const re = new RegExp(process.env.TERN_TEST_FILTER);
  files = files.filter((f) => re.test(f));
}

if (!process.env.TERN_SKIP_DEPS) {
  const deps = spawnSync('bash', ['scripts/install-deps.sh'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (deps.status !== 0) {
    process.stdout.write(`\ninstall-deps failed (exit ${deps.status}); run as root to install what is missing\n\n0 passed, 1 failed\n`);
    process.exit(1);
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
let fileFailures = 0; // failing points seen inside the current file
const failures = [];
let currentFile = '';

function onLine(line) {
  const sub = /^# Subtest: (.*)$/.exec(line);
  if (sub) { currentFile = sub[1]; fileFailures = 0; return; }
  const inner = /^ {4}(not ok|ok) \d+( - ([^#]*))?(#\s*(SKIP|TODO)\b)?/.exec(line);
  if (inner) {
    if (inner[5]) skipped++;
    else if (inner[1] === 'ok') passed++;
    else { failed++; fileFailures++; failures.push(`${currentFile}: ${(inner[3] ?? '').trim()}`); }
    return;
  }
  const top = /^(not ok|ok) \d+( - ([^#]*))?/.exec(line);
  if (top && top[1] === 'not ok' && fileFailures === 0) {
    failed++;
    failures.push(`${(top[3] ?? currentFile).trim()}: file failed (crash or timeout)`);
  }
}

const child = spawn('npx', ['tap', '--reporter=tap', ...flags, ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
let buf = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buf += chunk.toString('utf8');
  const lines = buf.split('\n');
  buf = lines.pop() ?? '';
  for (const l of lines) onLine(l);
});
child.on('close', (code) => {
  if (buf) onLine(buf);
  if (code !== 0 && failed === 0) { failed++; failures.push(`tap exited with code ${code}`); }
  if (failures.length) {
    process.stdout.write('\nFailures:\n');
    for (const f of failures) process.stdout.write(`  - ${f}\n`);
  }
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 ? 1 : 0);
});
