/**
 * The README is the front door: it must describe what the code does. These checks
 * keep its configuration reference, dependency list and quick start true.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { docsTable } from '../../../src/commands/config.ts';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

describe('README', () => {
  it('carries the current configuration reference (run `npm run docs` after changing the spec)', () => {
    const block = /<!-- config:start -->\n([\s\S]*)<!-- config:end -->/.exec(readme)?.[1];
    assert.equal(block, docsTable());
  });

  it('says in one line why each runtime dependency is there', () => {
    const table = readme.split('## Dependencies')[1]!.split('\n## ')[0]!;
    for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies)]) {
      assert.match(table, new RegExp(`^\\| ${name.replace(/[/@.]/g, '\\$&')}( [^|]*)? \\| .{10,} \\|$`, 'm'), `${name} is explained`);
    }
  });

  it('has a quick start of exactly two commands: run the engine, run the tests', () => {
    const quickStart = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
    const commands = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    assert.deepEqual(commands, ['npm ci && npm start', 'npm test']);
    assert.ok(pkg.scripts['start'] && pkg.scripts['test']);
    assert.equal(pkg.bin['quartile'], 'bin/quartile.js');
  });

  it('does not use the unmaintained community clickhouse package', () => {
    assert.equal(pkg.dependencies['clickhouse'], undefined);
  });
});
