#!/usr/bin/env node
// Runs Quartile's test suites with Node's own test runner (through tsx for TypeScript).
//   node scripts/test.mjs [unit|integration|e2e|browser|chaos …] [--grep TEXT] [--name PATTERN]
// --grep picks files whose path contains TEXT; --name runs only tests whose name matches PATTERN.
// Without suite names it runs unit, integration and e2e. Node 20 has no glob support
// in `--test`, so the file list is gathered here.
// The chaos suite stops and restarts the shared services (ci/services), so it never
// runs by default, and its files run one at a time (concurrency 1, whatever
// QUARTILE_TEST_CONCURRENCY says).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const suites = [];
let grep;
let name;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--grep') grep = argv[++i];
  else if (argv[i] === '--name') name = argv[++i];
  else suites.push(argv[i]);
}
const chosen = suites.length > 0 ? suites : ['unit', 'integration', 'e2e'];

function walk(dir) {
  let out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(walk(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = chosen
  .flatMap((suite) => walk(join(root, 'test', suite)))
  .filter((f) => grep === undefined || f.includes(grep))
  .sort();
if (files.length === 0) {
  console.error(`No test files found for: ${chosen.join(', ')}`);
  process.exit(1);
}
const concurrency = chosen.includes('chaos') ? '1' : (process.env.QUARTILE_TEST_CONCURRENCY ?? '2');
console.log(`Running ${files.length} test files (${chosen.join(', ')}); services: ${process.env.QUARTILE_TEST_SERVICES ?? 'auto'}; concurrency ${concurrency}`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...(name === undefined ? [] : [`--test-name-pattern=${name}`]), ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
