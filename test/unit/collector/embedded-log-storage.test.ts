/**
 * The embedded log's partition storage (src/transport/embedded/partition-log.ts),
 * which the collector writes to on the embedded backend: records are copied into
 * chunk buffers off the JavaScript heap, so what comes back must be exactly what went
 * in, across chunk boundaries and retention.
 *
 * (It lives with the collector's tests because it was written for the collector's
 * embedded throughput; test/integration/seams holds the transport's contract.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PartitionLog } from '../../../src/transport/embedded/partition-log.ts';
import type { OutgoingRecord } from '../../../src/transport/transport.ts';

function keyString(key: OutgoingRecord['key']): string | null {
  return key === null ? null : Buffer.from(key).toString('hex');
}

describe('embedded partition storage', () => {
  const shapes: Array<[string, OutgoingRecord]> = [
    ['an ASCII key', { key: 'pbs-123', value: Buffer.from('v1'), timestamp: 1_700_000_000_123 }],
    ['a UTF-8 key', { key: 'séance-📺', value: Buffer.from('v2'), timestamp: 1_700_000_000_124 }],
    ['a Buffer key', { key: Buffer.from([0, 255, 7]), value: Buffer.from('v3'), timestamp: 1 }],
    ['a null key', { key: null, value: Buffer.from('v4'), timestamp: 2 }],
    ['an empty key and value', { key: '', value: Buffer.alloc(0), timestamp: 3 }],
    ['headers', { key: 'h', value: Buffer.from('v5'), headers: { a: 'x', b: Buffer.from([1, 2]) }, timestamp: 4 }],
    ['a value larger than a chunk', { key: 'big', value: randomBytes(5 * 1024 * 1024), timestamp: 5 }],
  ];

  it('gives back every record as appended, at consecutive offsets', () => {
    const log = new PartitionLog('t', 0, 256 * 1024 * 1024);
    const sent: OutgoingRecord[] = [];
    for (let i = 0; i < 3; i++) {
      for (const [, record] of shapes) {
        assert.equal(log.append(record), sent.length);
        sent.push(record);
      }
    }
    const read = log.read(0, 1000);
    assert.equal(read.length, sent.length);
    read.forEach((r, i) => {
      const s = sent[i]!;
      assert.equal(r.offset, String(i));
      assert.equal(r.partition, 0);
      assert.equal(keyString(r.key), keyString(s.key), `key of ${shapes[i % shapes.length]![0]}`);
      assert.ok(r.value!.equals(s.value), `value of ${shapes[i % shapes.length]![0]}`);
      assert.equal(r.timestamp, s.timestamp);
      assert.deepEqual(
        Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v!.toString('hex')])),
        Object.fromEntries(Object.entries(s.headers ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('hex')])),
      );
    });
    assert.deepEqual(log.read(5, 2).map((r) => r.offset), ['5', '6'], 'reads start anywhere');
    assert.deepEqual(log.read(1000, 10), [], 'and end at the high offset');
  });

  it('keeps its own copy: a producer reusing its buffer does not change the log', () => {
    const log = new PartitionLog('t', 0, 1024 * 1024);
    const value = Buffer.from('original');
    log.append({ key: 'k', value });
    value.write('CHANGED!');
    assert.equal(log.read(0, 1)[0]!.value!.toString(), 'original');
  });

  it('drops the oldest records past its byte budget and serves the rest intact', () => {
    const budget = 256 * 1024;
    const log = new PartitionLog('t', 0, budget);
    const values = new Map<number, Buffer>();
    for (let i = 0; i < 20_000; i++) {
      const value = Buffer.from(`record ${i} `.padEnd(100 + (i % 300), String.fromCharCode(97 + (i % 26))));
      values.set(log.append({ key: `s-${i % 50}`, value, timestamp: i }), value);
    }
    assert.equal(log.high, 20_000);
    assert.ok(log.low > 0, 'retention dropped the oldest');
    const retained = log.read(0, 100_000);
    assert.equal(retained[0]!.offset, String(log.low), 'a read from before low starts at low');
    assert.equal(retained.length, log.high - log.low);
    // Roughly the budget (sizes are estimates; trimming goes down to 7/8 of it).
    const bytes = retained.reduce((sum, r) => sum + 64 + r.value!.length + r.key!.length, 0);
    assert.ok(bytes <= budget && bytes > budget / 2, `${bytes} bytes retained for a ${budget}-byte budget`);
    for (const r of retained) {
      const offset = Number(r.offset);
      assert.ok(r.value!.equals(values.get(offset)!), `record ${offset} intact`);
      assert.equal(r.key!.toString(), `s-${offset % 50}`);
      assert.equal(r.timestamp, offset);
    }
  });
});
