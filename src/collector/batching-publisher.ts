/**
 * Gathers records from concurrent requests into transport sends: a short linger lets
 * many small requests share one acknowledged write (acks=all on Kafka), which is what
 * makes "answer 200 only after the log acknowledged" affordable.
 *
 * Sends to one topic go out one at a time, in arrival order, so the events of one
 * playback session keep their order across requests.
 */
import { QuartileError, isQuartileError, messageOf } from '../core/errors.ts';
import type { OutgoingRecord, Transport } from '../transport/transport.ts';

interface Pending {
  readonly records: readonly OutgoingRecord[];
  /** Date.now() when the request was queued, for the linger. */
  readonly queuedAt: number;
  readonly resolve: () => void;
  readonly reject: (error: QuartileError) => void;
}

interface TopicQueue {
  pending: Pending[];
  records: number;
  timer: NodeJS.Timeout | undefined;
  sending: boolean;
}

/** Options for the publisher. */
export interface BatchingPublisherOptions {
  readonly lingerMs: number;
  readonly maxBatchRecords: number;
}

export class BatchingPublisher {
  readonly #transport: Transport;
  readonly #options: BatchingPublisherOptions;
  readonly #queues = new Map<string, TopicQueue>();
  #backlog = 0;

  constructor(transport: Transport, options: BatchingPublisherOptions) {
    this.#transport = transport;
    this.#options = options;
  }

  /** Records accepted but not yet acknowledged by the transport (for load shedding). */
  get backlog(): number {
    return this.#backlog;
  }

  /**
   * Resolves once the transport acknowledged every record; rejects with a retriable
   * TRANSPORT_UNAVAILABLE error when it did not (then none of them count as accepted).
   */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    let queue = this.#queues.get(topic);
    if (queue === undefined) {
      queue = { pending: [], records: 0, timer: undefined, sending: false };
      this.#queues.set(topic, queue);
    }
    this.#backlog += records.length;
    const q = queue;
    return new Promise<void>((resolve, reject) => {
      q.pending.push({ records, queuedAt: Date.now(), resolve, reject });
      q.records += records.length;
      if (q.records >= this.#options.maxBatchRecords) this.#kick(topic, q);
      else q.timer ??= setTimeout(() => this.#kick(topic, q), this.#options.lingerMs);
    });
  }

  #kick(topic: string, queue: TopicQueue): void {
    if (queue.timer !== undefined) {
      clearTimeout(queue.timer);
      queue.timer = undefined;
    }
    if (queue.sending || queue.pending.length === 0) return;
    queue.sending = true;
    // Take whole requests up to the batch size (a request is never split across sends).
    const batch: Pending[] = [];
    let count = 0;
    while (queue.pending.length > 0 && (batch.length === 0 || count + queue.pending[0]!.records.length <= this.#options.maxBatchRecords)) {
      const next = queue.pending.shift()!;
      batch.push(next);
      count += next.records.length;
    }
    queue.records -= count;
    void this.#send(topic, batch, count).finally(() => {
      queue.sending = false;
      if (queue.pending.length === 0) return;
      // As Kafka's linger.ms: the wait counts from the oldest waiting request, so
      // requests that queued up during the send that just ended go out now instead of
      // lingering once more (that second wait was pure latency, and idle transport).
      const lingerLeft = this.#options.lingerMs - (Date.now() - queue.pending[0]!.queuedAt);
      if (queue.records >= this.#options.maxBatchRecords || lingerLeft <= 0) this.#kick(topic, queue);
      else queue.timer ??= setTimeout(() => this.#kick(topic, queue), lingerLeft);
    });
  }

  async #send(topic: string, batch: readonly Pending[], count: number): Promise<void> {
    try {
      await this.#transport.send(topic, batch.flatMap((p) => p.records));
      for (const p of batch) p.resolve();
    } catch (cause) {
      const error = isQuartileError(cause)
        ? cause
        : new QuartileError('TRANSPORT_UNAVAILABLE', `Publishing to ${topic} failed: ${messageOf(cause)}`, { retriable: true, cause });
      for (const p of batch) p.reject(error);
    } finally {
      this.#backlog -= count;
    }
  }

  /** Sends whatever is waiting now, and resolves when every send in progress is done. */
  async flush(): Promise<void> {
    for (const [topic, queue] of this.#queues) this.#kick(topic, queue);
    while ([...this.#queues.values()].some((q) => q.sending || q.pending.length > 0)) {
      await new Promise((r) => setTimeout(r, 5));
      for (const [topic, queue] of this.#queues) this.#kick(topic, queue);
    }
  }
}
