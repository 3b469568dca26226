/**
 * The runtime's own guarantees, on the embedded log and on Kafka, with test steps and
 * sinks around it: one event that makes a processor throw is isolated and
 * dead-lettered while its neighbours flow; a sink that asks for retries holds its
 * partition (backpressure) and loses nothing; a sink's partial refusal dead-letters
 * just the refused items; offsets are committed only once everything is acknowledged;
 * a stop (an operator's drain) finishes and commits the batch in flight.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { EmbeddedTransport } from '../../../src/transport/embedded/embedded-transport.ts';
import { KafkaTransport } from '../../../src/transport/kafka/kafka-transport.ts';
import type { Transport } from '../../../src/transport/transport.ts';
import { PipelineRuntime, type DeadLetterWriter } from '../../../src/pipeline/runtime.ts';
import type { Processor, StepResult } from '../../../src/pipeline/processor.ts';
import type { Sink, WriteOutcome } from '../../../src/pipeline/sink.ts';
import type { PipelineOutput } from '../../../src/pipeline/pipeline-event.ts';
import { deadLetterFor } from '../../../src/pipeline/dead-letter.ts';
import { QuartileError } from '../../../src/core/errors.ts';
import type { DeadLetter } from '../../../schemas/types.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { service } from '../../helpers/services.ts';
import { uniqueName, waitFor } from '../../helpers/wait.ts';

const kafka = service('kafka');
const transports: Array<{ name: string; skip: string | false; open: () => Transport }> = [
  { name: 'embedded log', skip: false, open: () => new EmbeddedTransport() },
  {
    name: 'kafka',
    skip: kafka.skip,
    open: () => new KafkaTransport({ brokers: (kafka.url ?? '').split(','), clientId: 'runtime-test', connectionTimeoutMs: 3000, ssl: false, logger: silentLogger() }),
  },
];

/** A step that reads the record value as text, and throws (a bug) on "poison". */
const parse: Processor = {
  name: 'decode',
  process(event): StepResult {
    const text = event.source.record.value!.toString();
    if (text === 'poison') throw new TypeError('cannot read properties of undefined');
    return { kind: 'emit' };
  },
};

/** A sink recording what it got, scripted to ask for retries or refuse items. */
class RecordingSink implements Sink {
  readonly name = 'kafka' as const;
  readonly got: string[] = [];
  retriesLeft = 0;
  refuse = new Set<string>();
  accepts(): boolean {
    return true;
  }
  async write(batch: readonly PipelineOutput[]): Promise<WriteOutcome> {
    if (this.retriesLeft > 0) {
      this.retriesLeft--;
      return { status: 'retry', error: new QuartileError('SINK_KAFKA_UNAVAILABLE', 'down', { retriable: true }) };
    }
    const failed = new Map<number, QuartileError>();
    batch.forEach((o, i) => {
      const text = o.kind === 'event' ? o.event.source.record.value!.toString() : '';
      if (this.refuse.has(text)) failed.set(i, new QuartileError('SINK_KAFKA_RECORD_INVALID', 'refused'));
      else this.got.push(text);
    });
    return failed.size === 0 ? { status: 'delivered' } : { status: 'partial', failed };
  }
  async close(): Promise<void> {}
}

for (const backend of transports) {
  describe(`pipeline runtime on the ${backend.name}`, { skip: backend.skip, timeout: 120_000 }, () => {
    let transport: Transport;
    before(() => {
      transport = backend.open();
    });
    after(() => transport.close());

    async function run(records: string[], sink: RecordingSink, topicPartitions = 1, processors: readonly Processor[] = [parse]): Promise<{ dead: DeadLetter[]; lag: () => Promise<number>; stop: () => Promise<void> }> {
      const topic = uniqueName('runtime');
      const groupId = uniqueName('group');
      await transport.ensureTopics([{ name: topic, partitions: topicPartitions }]);
      await transport.send(topic, records.map((value) => ({ key: value === 'poison' ? 'k' : 'k', value: Buffer.from(value) })));
      const dead: DeadLetter[] = [];
      const deadLetters: DeadLetterWriter = { write: async (r) => (dead.push(...r), { ok: true }) };
      const runtime = new PipelineRuntime({
        transport,
        topic,
        groupId,
        partitionsConcurrently: 2,
        maxBatchRecords: 10,
        processors,
        sinks: [sink],
        deadLetters,
        deadLetterForOutput: async (output, stage, error, now) => deadLetterFor((output as { event: Parameters<typeof deadLetterFor>[0] }).event, stage, error, now),
        metrics: createMetrics(),
        logger: silentLogger(),
        allowedLatenessMs: 0,
        idleWatermarkMs: 60_000,
      });
      await runtime.start();
      return {
        dead,
        lag: async () => (await transport.lag(groupId, topic)).reduce((n, p) => n + p.lag, 0),
        stop: () => runtime.stop(),
      };
    }

    it('isolates the one event that makes a processor throw, and the partition goes on', async () => {
      const sink = new RecordingSink();
      const r = await run(['a', 'b', 'poison', 'c', 'd'], sink);
      try {
        await waitFor('the partition to be committed', async () => (await r.lag()) === 0, 60_000, 100);
        assert.deepEqual(sink.got, ['a', 'b', 'c', 'd']);
        assert.equal(r.dead.length, 1);
        assert.deepEqual({ code: r.dead[0]!.code, stage: r.dead[0]!.stage, value: Buffer.from(r.dead[0]!.originalValue).toString() }, { code: 'PIPELINE_INTERNAL_ERROR', stage: 'decode', value: 'poison' });
      } finally {
        await r.stop();
      }
    });

    it('holds a partition while its sink asks for retries, commits nothing meanwhile, and loses nothing', async () => {
      const sink = new RecordingSink();
      sink.retriesLeft = 3;
      const values = Array.from({ length: 25 }, (_, i) => `v${i}`);
      const r = await run(values, sink);
      try {
        assert.ok((await r.lag()) > 0, 'not committed while the sink is down');
        await waitFor('everything delivered and committed', async () => (await r.lag()) === 0, 60_000, 100);
        assert.deepEqual(sink.got, values, 'all of it, in order, once the sink is back');
        assert.equal(r.dead.length, 0);
      } finally {
        await r.stop();
      }
    });

    it('finishes and commits the batch in flight when stopped, so a drain repeats nothing', async () => {
      const sink = new RecordingSink();
      let reached!: () => void;
      const inFlight = new Promise<void>((r) => (reached = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // A step still working on the batch when the stop comes.
      const slow: Processor = {
        name: 'decrypt',
        async process(): Promise<StepResult> {
          reached();
          await gate;
          return { kind: 'emit' };
        },
      };
      const r = await run(['a', 'b', 'c'], sink, 1, [parse, slow]);
      await inFlight;
      const stopped = r.stop();
      release();
      await stopped;
      assert.deepEqual(sink.got, ['a', 'b', 'c'], 'delivered, not abandoned');
      assert.equal(await r.lag(), 0, 'and committed before the stop returned');
    });

    it('dead-letters only the items a sink refuses', async () => {
      const sink = new RecordingSink();
      sink.refuse = new Set(['x']);
      const r = await run(['a', 'x', 'b'], sink);
      try {
        await waitFor('committed', async () => (await r.lag()) === 0, 60_000, 100);
        assert.deepEqual(sink.got, ['a', 'b']);
        assert.deepEqual(r.dead.map((d) => [d.code, d.stage]), [['SINK_KAFKA_RECORD_INVALID', 'sinks/kafka']]);
      } finally {
        await r.stop();
      }
    });
  });
}
