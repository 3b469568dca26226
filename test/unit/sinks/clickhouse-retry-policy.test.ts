import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../../sinks/clickhouse/retry-policy.ts';
import { QuartileError } from '../../../src/core/errors.ts';

function refused(type: string): QuartileError {
  return new QuartileError('WAREHOUSE_QUERY_FAILED', 'x', { cause: Object.assign(new Error(type), { type }) });
}

describe('ClickHouse sink retry policy', () => {
  const cases: Array<[string, unknown, 'retry' | 'split']> = [
    ['an unreachable server', new QuartileError('WAREHOUSE_UNAVAILABLE', 'x', { retriable: true }), 'retry'],
    ['a missing table (run migrate)', refused('UNKNOWN_TABLE'), 'retry'],
    ['a missing column', refused('NO_SUCH_COLUMN_IN_TABLE'), 'retry'],
    ['too many parts', refused('TOO_MANY_PARTS'), 'retry'],
    ['a violated constraint', refused('VIOLATED_CONSTRAINT'), 'split'],
    ['an unparsable value', refused('CANNOT_PARSE_INPUT_ASSERTION_FAILED'), 'split'],
    ['a type mismatch', refused('TYPE_MISMATCH'), 'split'],
    ['an error without a ClickHouse type', new Error('boom'), 'retry'],
  ];
  for (const [what, error, decision] of cases) it(`${decision === 'retry' ? 'retries' : 'splits'} on ${what}`, () => assert.equal(decide(error), decision));
});
