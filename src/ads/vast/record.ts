/**
 * Maps keyed by names that come from the document (tracking event names), kept as
 * plain objects so they print and compare like any JSON object.
 */

/**
 * The list stored under `key`, created as an own property when missing. Defining it
 * (rather than assigning) keeps a key such as `__proto__` an ordinary entry instead
 * of reaching Object.prototype.
 */
export function listAt<T>(record: Record<string, T[]>, key: string): T[] {
  if (Object.hasOwn(record, key)) return record[key]!;
  const list: T[] = [];
  Object.defineProperty(record, key, { value: list, enumerable: true, writable: true, configurable: true });
  return list;
}
