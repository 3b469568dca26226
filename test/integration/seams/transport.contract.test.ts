/**
 * The transport contract: one suite, run against the embedded log and against real
 * Kafka. What the pipeline relies on: acknowledged appends, per-key order, commits as
 * "next to read", redelivery of unfinished work, pause without loss, and rebalancing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedTransport } from '../../../src/transport/embedded/embedded-transport.ts';
import { KafkaTransport } from '../../../src/transport/kafka/kafka-transport.ts';
import { partitionFor } from '../../../src/transport/partitioner.ts';
import type { ConsumedRecord, Consumer, RebalanceEvent, Transport } from '../../../src/transport/transport.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { service } from '../../helpers/services.ts';
import { sleep, uniqueName, waitFor } from '../../helpers/wait.ts';

const kafka = service('kafka');

const backends: Array<{ name: string; skip: string | false; open: () => Transport; timeoutMs: number }> = [
  { name: 'embedded log', skip: false, open: () => new EmbeddedTransport(), timeoutMs: 5_000 },
  {
    name: 'kafka',
    skip: kafka.skip,
    open: () =>
      new KafkaTransport({
        brokers: (kafka.url ?? '').split(','),
        clientId: 'quartile-contract-test',
        connectionTimeoutMs: 3_000,
        ssl: false,
        logger: silentLogger(),
      }),
    timeoutMs: 45_000,
  },
];

function records(n: number, key: (i: number) => string): Array<{ key: string; value: Buffer }> {
  return Array.from({ length: n }, (_, i) => ({ key: key(i), value: Buffer.from(`v${i}`) }));
}

for (const backend of backends) {
  describe(`transport contract: ${backend.name}`, { skip: backend.skip, timeout: 180_000 }, () => {
    let transport: Transport;
    const consumers: Consumer[] = [];
    const consumer = (...args: Parameters<Transport['createConsumer']>): Consumer => {
      const c = transport.createConsumer(...args);
      consumers.push(c);
      return c;
    };

    before(() => {
      transport = backend.open();
    });
    after(async () => {
      await Promise.all(consumers.map((c) => c.stop().catch(() => {})));
      await transport.close();
    });

    it('creates topics once and lists them', async () => {
      const topic = uniqueName('contract-topics');
      assert.deepEqual(await transport.ensureTopics([{ name: topic, partitions: 3 }]), [topic]);
      assert.deepEqual(await transport.ensureTopics([{ name: topic, partitions: 3 }]), []);
      assert.ok((await transport.listTopics()).includes(topic));
      assert.equal((await transport.offsets(topic)).length, 3);
    });

    it('refuses to send to a topic that does not exist, naming the fix', async () => {
      await assert.rejects(transport.send(uniqueName('missing'), [{ key: 'k', value: Buffer.from('x') }]), (error: unknown) => {
        assert.ok(isQuartileError(error, 'TRANSPORT_UNKNOWN_TOPIC'));
        assert.match(error.message, /quartile topics create/);
        return true;
      });
    });

    it('acknowledges appends with positions that follow the key partitioner, in order', async () => {
      const topic = uniqueName('contract-send');
      await transport.ensureTopics([{ name: topic, partitions: 3 }]);
      const sent = records(30, (i) => `session-${i % 5}`);
      const positions = await transport.send(topic, sent);
      assert.equal(positions.length, 30);
      const lastByPartition = new Map<number, bigint>();
      positions.forEach((p, i) => {
        assert.equal(p.partition, partitionFor(topic, sent[i]!.key, 3), 'same partition as Kafka’s Java client would pick');
        const offset = BigInt(p.offset);
        const last = lastByPartition.get(p.partition);
        if (last !== undefined) assert.equal(offset, last + 1n, 'offsets within a partition are consecutive');
        lastByPartition.set(p.partition, offset);
      });
      const offsets = await transport.offsets(topic);
      const total = offsets.reduce((n, o) => n + Number(BigInt(o.high) - BigInt(o.low)), 0);
      assert.equal(total, 30);
    });

    it('delivers every record to a group in per-key order, and resumes from the commit', async () => {
      const topic = uniqueName('contract-consume');
      const groupId = uniqueName('group');
      await transport.ensureTopics([{ name: topic, partitions: 3 }]);
      await transport.send(topic, records(60, (i) => `session-${i % 6}`));

      const seen: ConsumedRecord[] = [];
      const first = consumer({ groupId, topics: [topic], partitionsConcurrently: 3, maxBatchRecords: 7 });
      await first.run(async (batch) => {
        seen.push(...batch.records);
        await first.commit([{ topic, partition: batch.partition, offset: String(BigInt(batch.records.at(-1)!.offset) + 1n) }]);
      });
      await waitFor('60 records', () => seen.length >= 60, backend.timeoutMs);
      assert.equal(seen.length, 60);
      for (let s = 0; s < 6; s++) {
        const values = seen.filter((r) => r.key?.toString() === `session-${s}`).map((r) => Number(r.value!.toString().slice(1)));
        assert.deepEqual(values, [...values].sort((a, b) => a - b), `session-${s} is in order`);
      }
      await waitFor('lag 0', async () => (await transport.lag(groupId, topic)).every((p) => p.lag === 0), backend.timeoutMs);
      await first.stop();

      await transport.send(topic, records(9, (i) => `later-${i}`));
      const resumed: ConsumedRecord[] = [];
      const second = consumer({ groupId, topics: [topic], partitionsConcurrently: 3 });
      await second.run(async (batch) => {
        resumed.push(...batch.records);
      });
      await waitFor('9 new records', () => resumed.length >= 9, backend.timeoutMs);
      await sleep(300);
      assert.deepEqual(resumed.map((r) => r.key?.toString()).sort(), Array.from({ length: 9 }, (_, i) => `later-${i}`).sort());
    });

    it('fetches a batch again when its handler fails, so nothing is lost', async () => {
      const topic = uniqueName('contract-redeliver');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      await transport.send(topic, records(10, () => 'one-session'));
      let failures = 0;
      const got: string[] = [];
      const c = consumer({ groupId: uniqueName('group'), topics: [topic] });
      await c.run(async (batch) => {
        if (failures === 0) {
          failures++;
          throw new Error('sink down');
        }
        got.push(...batch.records.map((r) => r.value!.toString()));
      });
      await waitFor('10 records after a failure', () => got.length >= 10, backend.timeoutMs);
      assert.equal(failures, 1);
      assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `v${i}`));
    });

    it('holds records back while a partition is paused and delivers them after resume', async () => {
      const topic = uniqueName('contract-pause');
      await transport.ensureTopics([{ name: topic, partitions: 1 }]);
      const got: string[] = [];
      const c = consumer({ groupId: uniqueName('group'), topics: [topic] });
      await c.run(async (batch) => {
        got.push(...batch.records.map((r) => r.value!.toString()));
      });
      await transport.send(topic, records(3, () => 'k'));
      await waitFor('first 3', () => got.length >= 3, backend.timeoutMs);
      c.pause([{ topic, partition: 0 }]);
      assert.deepEqual(c.paused(), [{ topic, partition: 0 }]);
      await sleep(500); // let any fetch already in flight land
      const before = got.length;
      await transport.send(topic, records(4, () => 'k'));
      await sleep(1_500);
      assert.equal(got.length, before, 'nothing delivered while paused');
      c.resume([{ topic, partition: 0 }]);
      await waitFor('the held records', () => got.length >= 7, backend.timeoutMs);
      assert.equal(got.length, 7);
    });

    it('rebalances partitions when a member leaves, without losing records', async () => {
      const topic = uniqueName('contract-rebalance');
      const groupId = uniqueName('group');
      await transport.ensureTopics([{ name: topic, partitions: 4 }]);
      const byMember: Record<string, Set<number>> = { a: new Set(), b: new Set() };
      const events: RebalanceEvent[] = [];
      const values = new Set<string>();
      const make = (name: 'a' | 'b'): Consumer => {
        const c = consumer({
          groupId,
          topics: [topic],
          partitionsConcurrently: 4,
          ...(name === 'b' ? { onRebalance: (e: RebalanceEvent) => events.push(e) } : {}),
        });
        return c;
      };
      const a = make('a');
      const b = make('b');
      const handler = (name: 'a' | 'b', c: Consumer) => async (batch: { partition: number; records: readonly ConsumedRecord[] }) => {
        byMember[name]!.add(batch.partition);
        for (const r of batch.records) values.add(r.value!.toString());
        await c.commit([{ topic, partition: batch.partition, offset: String(BigInt(batch.records.at(-1)!.offset) + 1n) }]);
      };
      await a.run(handler('a', a));
      await b.run(handler('b', b));
      // On Kafka each member learns of a rebalance at its next heartbeat, so wait for
      // both views to settle into a split of the 4 partitions.
      await waitFor(
        'the 4 partitions split between both members',
        () => a.assignment().length > 0 && b.assignment().length > 0 && a.assignment().length + b.assignment().length === 4,
        backend.timeoutMs,
      );

      await transport.send(topic, records(40, (i) => `s${i}`));
      await waitFor('first 40', () => values.size >= 40, backend.timeoutMs);
      await a.stop();
      await waitFor('b owns every partition', () => b.assignment().length === 4, backend.timeoutMs);
      assert.ok(events.some((e) => e.assigned.length > 0), 'b was told what it gained');

      await transport.send(topic, records(40, (i) => `t${i}`).map((r) => ({ ...r, value: Buffer.from(`w${r.value.toString()}`) })));
      await waitFor('all 80', () => values.size >= 80, backend.timeoutMs);
      assert.equal(values.size, 80);
    });
  });
}
