/** Transports that fail the way a dying process does, for replay tests. */
import type { Consumer, Transport } from '../../src/transport/transport.ts';

/** The transport of a process that dies right after its sinks acknowledged: commits never land. */
export function crashingBeforeCommit(transport: Transport): Transport {
  return new Proxy(transport, {
    get(target, prop) {
      if (prop === 'createConsumer') {
        return (...args: Parameters<Transport['createConsumer']>): Consumer => {
          const consumer = target.createConsumer(...args);
          return new Proxy(consumer, {
            get(c, p) {
              if (p === 'commit') return async () => {};
              const value = Reflect.get(c, p, c) as unknown;
              return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(c) : value;
            },
          });
        };
      }
      // The target as receiver: getters of classes with private fields (a prefixed
      // transport's `kind`) must run on the instance, not on the proxy.
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
