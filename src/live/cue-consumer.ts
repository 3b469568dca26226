/**
 * Reads ad break cues from the live.cues topic (Avro AdBreakCue) in one consumer
 * group, so one Ads Manager of a fleet prefetches each cue; the plan it writes to the
 * state seam serves every instance. Offsets are committed once a batch's cues are
 * handled, so a cue whose prefetch was cut short by a crash is read again.
 */
import type { AdBreakCue } from '../../schemas/types.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RecordCodec } from '../transport/avro/record-codec.ts';
import { TOPICS } from '../transport/topics.ts';
import type { Consumer, Transport } from '../transport/transport.ts';

const HEARTBEAT_MS = 3_000;

export class CueConsumer {
  readonly #transport: Transport;
  readonly #codec: RecordCodec;
  readonly #groupId: string;
  readonly #onCue: (cue: AdBreakCue) => Promise<void>;
  readonly #logger: Logger;
  #consumer: Consumer | undefined;

  constructor(options: { transport: Transport; codec: RecordCodec; groupId: string; onCue: (cue: AdBreakCue) => Promise<void>; logger: Logger }) {
    this.#transport = options.transport;
    this.#codec = options.codec;
    this.#groupId = options.groupId;
    this.#onCue = options.onCue;
    this.#logger = options.logger;
  }

  /** Joins the group and starts handling cues. */
  async start(): Promise<void> {
    const consumer = this.#transport.createConsumer({ groupId: this.#groupId, topics: [TOPICS.liveCues], fromBeginning: true });
    this.#consumer = consumer;
    await consumer.run(async (batch, ctx) => {
      const handled = Promise.all(
        batch.records.map(async (record) => {
          if (record.value === null) return;
          let cue: AdBreakCue;
          try {
            cue = await this.#codec.decode(TOPICS.liveCues, record.value);
          } catch (error) {
            // A cue that cannot be read is skipped, not retried forever: later cues must flow.
            this.#logger.error({ err: messageOf(error), partition: record.partition, offset: record.offset }, 'unreadable record on live.cues; skipped');
            return;
          }
          await this.#onCue(cue);
        }),
      );
      // A prefetch may wait for load to drop until its break starts: stay in the group meanwhile.
      for (let done = false; !done; ) {
        let timer: NodeJS.Timeout | undefined;
        done = await Promise.race([handled.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), HEARTBEAT_MS)))]);
        clearTimeout(timer);
        if (!done) await ctx.heartbeat();
      }
      const last = batch.records.at(-1);
      if (last !== undefined) {
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
      }
    });
  }

  async stop(): Promise<void> {
    await this.#consumer?.stop();
  }
}
