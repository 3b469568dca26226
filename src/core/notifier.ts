/**
 * A level-free wake-up signal: `wait()` resolves on the next `notify()`. Used by loops
 * that sleep until "something changed" (new records, resume, stop, rebalance) instead
 * of polling.
 */
export class Notifier {
  #waiters: Array<() => void> = [];

  /** Resolves on the next notify(), or after `timeoutMs` when given. */
  wait(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== done);
          resolve();
        }, timeoutMs);
        timer.unref();
      }
    });
  }

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
