/**
 * `npm run docs`: rewrites the configuration reference in README.md from the config
 * spec, so the README cannot drift from the code (a unit test checks it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { docsTable } from '../src/commands/config.ts';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const next = readme.replace(/<!-- config:start -->[\s\S]*<!-- config:end -->/, `<!-- config:start -->\n${docsTable()}<!-- config:end -->`);
writeFileSync(path, next);
process.stdout.write(next === readme ? 'README.md is up to date\n' : 'README.md configuration reference rewritten\n');
