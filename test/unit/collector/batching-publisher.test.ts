/**
 * The collector's batching publisher, on fake timers: when a request's records reach
 * the transport (linger, batch size), that a send is one acknowledged write for every
 * request in it, that sends to a topic keep arrival order, and that a failed send
 * fails exactly the requests in it with a retriable error.
 */
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { BatchingPublisher } from '../../../src/collector/batching-publisher.ts';
import { QuartileError } from '../../../src/core/errors.ts';
import type { OutgoingRecord, RecordPosition, Transport } from '../../../src/transport/transport.ts';

/** A transport whose sends complete when the test says so. */
class ManualTransport {
  readonly sends: Array<{ topic: string; keys: string[]; at: number; settle: (error?: Error) => void }> = [];

  send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> {
    return new Promise((resolve, reject) => {
      this.sends.push({
        topic,
        keys: records.map((r) => String(r.key)),
        at: Date.now(),
        settle: (error) => (error === undefined ? resolve(records.map((_, i) => ({ topic, partition: 0, offset: String(i) }))) : reject(error)),
      });
    });
  }
}

function records(prefix: string, n: number): OutgoingRecord[] {
  return Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: Buffer.from('v') }));
}

/** Lets resolved promises run their continuations. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('BatchingPublisher', () => {
  let transport: ManualTransport;
  let publisher: BatchingPublisher;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    transport = new ManualTransport();
    publisher = new BatchingPublisher(transport as unknown as Transport, { lingerMs: 5, maxBatchRecords: 10 });
  });
  afterEach(() => mock.timers.reset());

  it('holds a request for lingerMs so that others can share its send', async () => {
    const first = publisher.publish('t', records('a', 2));
    mock.timers.tick(3);
    const second = publisher.publish('t', records('b', 2));
    assert.equal(transport.sends.length, 0, 'nothing sent before the linger');
    mock.timers.tick(2);
    assert.equal(transport.sends.length, 1);
    assert.deepEqual(transport.sends[0]!.keys, ['a0', 'a1', 'b0', 'b1'], 'one send, in arrival order');
    assert.equal(publisher.backlog, 4);
    transport.sends[0]!.settle();
    await Promise.all([first, second]);
    assert.equal(publisher.backlog, 0);
  });

  it('sends at once when a batch is full, without splitting a request', async () => {
    void publisher.publish('t', records('a', 6));
    void publisher.publish('t', records('b', 6));
    assert.equal(transport.sends.length, 1, 'the batch size was reached: no linger');
    assert.deepEqual(transport.sends[0]!.keys, records('a', 6).map((r) => r.key), 'a request is never split across sends');
  });

  it('sends what queued during a send as soon as it ends, once it has lingered', async () => {
    void publisher.publish('t', records('a', 1));
    mock.timers.tick(5);
    assert.equal(transport.sends.length, 1);
    void publisher.publish('t', records('b', 1));
    mock.timers.tick(30); // a slow send: b has waited far longer than the linger
    assert.equal(transport.sends.length, 1, 'one send at a time per topic, for order');
    transport.sends[0]!.settle();
    await settle();
    assert.equal(transport.sends.length, 2, 'b goes as soon as the send ends, with no second linger');
    assert.equal(transport.sends[1]!.at, transport.sends[0]!.at + 30);
  });

  it('lets a request that queued just before a send ended finish its linger', async () => {
    void publisher.publish('t', records('a', 1));
    mock.timers.tick(5);
    mock.timers.tick(8);
    void publisher.publish('t', records('b', 1));
    mock.timers.tick(2);
    transport.sends[0]!.settle();
    await settle();
    assert.equal(transport.sends.length, 1, 'b has lingered 2 of 5 ms');
    mock.timers.tick(3);
    assert.equal(transport.sends.length, 2);
  });

  it('fails exactly the requests of a failed send, with a retriable TRANSPORT_UNAVAILABLE', async () => {
    const failed = publisher.publish('t', records('a', 1));
    mock.timers.tick(5);
    const next = publisher.publish('t', records('b', 1));
    transport.sends[0]!.settle(new Error('broker down'));
    await assert.rejects(failed, (error: unknown) => error instanceof QuartileError && error.code === 'TRANSPORT_UNAVAILABLE' && error.retriable);
    mock.timers.tick(5);
    assert.deepEqual(transport.sends[1]!.keys, ['b0'], 'the next request is not failed with it, and goes in its own send');
    transport.sends[1]!.settle();
    await next;
    assert.equal(publisher.backlog, 0);
  });

  it('batches each topic on its own', () => {
    void publisher.publish('raw', records('r', 1));
    void publisher.publish('rejected', records('x', 1));
    mock.timers.tick(5);
    assert.deepEqual(transport.sends.map((s) => [s.topic, s.keys]), [
      ['raw', ['r0']],
      ['rejected', ['x0']],
    ]);
  });
});
