import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runConformance } from '../../../scripts/conformance.ts';

describe('VAST conformance corpus (../shared/conformance/vast)', () => {
  it('gives the expected answer for every file', async () => {
    const rows = await runConformance();
    assert.ok(rows.length >= 90, `the whole corpus is read (${rows.length} files)`);
    const failures = rows.filter((r) => !r.pass).map((r) => `${r.file}: expected ${r.expected}, got ${r.got}`);
    assert.deepEqual(failures, []);
  });
});
