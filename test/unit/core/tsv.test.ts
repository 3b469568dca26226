/**
 * TabSeparated encoding of rows Quartile inserts as text (beacon outcomes): escapes
 * what ClickHouse would otherwise read as a field or row separator, keeps column
 * order, and refuses what it cannot write rather than inserting a wrong row.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tsvField, tsvLine } from '../../../src/warehouse/tsv.ts';

describe('TabSeparated encoding', () => {
  it('writes plain values as they are, numbers as decimals', () => {
    assert.equal(tsvField('dv'), 'dv');
    assert.equal(tsvField('2026-11-25 12:00:00.123'), '2026-11-25 12:00:00.123');
    assert.equal(tsvField(0), '0');
    assert.equal(tsvField(65535), '65535');
  });

  it('escapes backslash, tab, line feed, carriage return and NUL', () => {
    assert.equal(tsvField('a\tb\nc\rd\0e\\f'), 'a\\tb\\nc\\rd\\0e\\\\f');
    assert.equal(tsvField("it's ümlaut"), "it's ümlaut");
  });

  it('makes one line per row in the columns\' order, whatever the row\'s key order', () => {
    assert.equal(tsvLine({ b: 2, a: 'x\ty' }, ['a', 'b']), 'x\\ty\t2\n');
  });

  it('refuses a missing column or a number it cannot write', () => {
    assert.throws(() => tsvLine({ a: 1 }, ['a', 'b']), /no value for column b/);
    assert.throws(() => tsvField(Number.NaN), /finite/);
    assert.throws(() => tsvField(Number.POSITIVE_INFINITY), /finite/);
  });
});
