/**
 * How far beacon delivery is behind the pipeline: the lag of delivery's consumer group
 * on `ads.beacons`, in records. The pixels sink uses it to bound the buffer between the
 * two (`pixels.maxBacklog`). It is read in the background once a second, not on every
 * write (on Kafka it is two admin requests), and the records written since the last
 * reading are added to it, so a burst cannot overshoot the bound by more than a second
 * of delivery.
 */
import { messageOf } from '../../src/core/errors.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import type { Transport } from '../../src/transport/transport.ts';

const EVERY_MS = 1000;

export class BacklogProbe {
  readonly #transport: Transport;
  readonly #groupId: string;
  readonly #logger: Logger;
  #lag = 0;
  #addedSince = 0;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #warnedAt = 0;

  constructor(transport: Transport, groupId: string, logger: Logger) {
    this.#transport = transport;
    this.#groupId = groupId;
    this.#logger = logger;
  }

  /** Records delivery has not committed yet, as last read plus what was written since. */
  records(): number {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#read(), EVERY_MS);
      this.#timer.unref();
      void this.#read();
    }
    return this.#lag + this.#addedSince;
  }

  /** Counts records just written. */
  added(n: number): void {
    this.#addedSince += n;
  }

  async #read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    const before = this.#addedSince;
    try {
      const lag = await this.#transport.lag(this.#groupId, TOPICS.beacons);
      this.#lag = lag.reduce((sum, p) => sum + p.lag, 0);
      this.#addedSince -= before;
    } catch (error) {
      // The last reading stands: the send itself fails while the log is unreachable.
      if (Date.now() - this.#warnedAt > 30_000) {
        this.#warnedAt = Date.now();
        this.#logger.warn({ err: messageOf(error) }, 'cannot read beacon delivery\'s backlog');
      }
    } finally {
      this.#reading = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
