/**
 * A timing wheel for the simulated devices: millions of sends, each at its own
 * instant, without a timer each. One 20 ms tick runs everything that is due.
 */
const TICK_MS = 20;

export class Scheduler {
  readonly #buckets = new Map<number, Array<() => void>>();
  #next = Math.floor(Date.now() / TICK_MS);
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #idle: Array<() => void> = [];

  /** Runs `task` at `atMs` (epoch ms), or on the next tick if that is past. */
  at(atMs: number, task: () => void): void {
    const slot = Math.max(Math.floor(atMs / TICK_MS), this.#next);
    let bucket = this.#buckets.get(slot);
    if (bucket === undefined) this.#buckets.set(slot, (bucket = []));
    bucket.push(task);
    this.#pending++;
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
  }

  get pending(): number {
    return this.#pending;
  }

  /** Resolves once nothing is scheduled. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = Math.floor(Date.now() / TICK_MS);
    for (; this.#next <= now; this.#next++) {
      const bucket = this.#buckets.get(this.#next);
      if (bucket === undefined) continue;
      this.#buckets.delete(this.#next);
      for (const task of bucket) {
        this.#pending--;
        task();
      }
    }
    if (this.#pending === 0) {
      this.stop();
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
